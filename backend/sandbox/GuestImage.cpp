#include "GuestImage.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QLockFile>

Q_LOGGING_CATEGORY(lcImage, "vivarium.sandbox.image")

namespace viv {

GuestImage::GuestImage(QString recipeDir, QString imageDir, QObject *parent)
    : QObject(parent), m_recipeDir(std::move(recipeDir)), m_imageDir(std::move(imageDir))
{
    m_version = hashRecipe(m_recipeDir);
    if (!m_version.isEmpty() && QFileInfo::exists(dir() + QStringLiteral("/VERSION")))
        setStatus(State::Ready, 100, QStringLiteral("guest image %1 ready").arg(m_version));
}

GuestImage::~GuestImage()
{
    if (m_process) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(5000);
    }
}

QString GuestImage::hashRecipe(const QString &recipeDir)
{
    // Absolute, so that the iterator's paths and relativeFilePath() agree whatever the
    // process's working directory (a relative recipe dir hashed no file at all).
    const QDir d(QDir(recipeDir).absolutePath());
    if (!d.exists(QStringLiteral("build-image.sh")))
        return {};
    QStringList files;
    QDirIterator it(d.absolutePath(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << d.relativeFilePath(it.next());
    files.sort();
    QCryptographicHash h(QCryptographicHash::Sha256);
    for (const QString &f : files) {
        if (f.endsWith(QLatin1String(".pyc")) || f.contains(QLatin1String("__pycache__")))
            continue;
        QFile file(d.filePath(f));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        h.addData(f.toUtf8());
        h.addData(QByteArrayView("\0", 1));
        h.addData(file.readAll());
        h.addData(QByteArrayView("\0", 1));
    }
    return QString::fromLatin1(h.result().toHex().left(16));
}

QString GuestImage::dir() const
{
    return m_imageDir + u'/' + m_version;
}

QString GuestImage::logPath() const
{
    return m_imageDir + u'/' + m_version + QStringLiteral(".log");
}

void GuestImage::setStatus(State s, int percent, const QString &text)
{
    m_state = s;
    m_progress = percent;
    m_statusText = text;
    Q_EMIT statusChanged(s, percent, text);
}

void GuestImage::ensure(std::function<void(const QString &)> done)
{
    if (m_version.isEmpty()) {
        done(QStringLiteral("the guest image recipe is missing (looked in %1; set VIVARIUM_GUEST_RECIPE_DIR)")
                 .arg(m_recipeDir));
        return;
    }
    if (m_state == State::Ready || QFileInfo::exists(dir() + QStringLiteral("/VERSION"))) {
        if (m_state != State::Ready)
            setStatus(State::Ready, 100, QStringLiteral("guest image %1 ready").arg(m_version));
        done(QString());
        return;
    }
    m_waiters << std::move(done);
    if (m_state != State::Building)
        startBuild();
}

void GuestImage::startBuild()
{
    QDir().mkpath(m_imageDir);
    const QString partial = dir() + QStringLiteral(".partial");
    QDir(partial).removeRecursively();
    setStatus(State::Building, 0, QStringLiteral("building guest image %1").arg(m_version));
    qCInfo(lcImage).noquote() << "building guest image" << m_version << "from" << m_recipeDir << "(log:" << logPath() << ")";

    QFile::remove(logPath());
    m_process = new QProcess(this);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->setProgram(QStringLiteral("/bin/bash"));
    m_process->setArguments({m_recipeDir + QStringLiteral("/build-image.sh"), partial});
    connect(m_process, &QProcess::readyReadStandardOutput, this, [this] {
        const QByteArray chunk = m_process->readAllStandardOutput();
        QFile log(logPath());
        if (log.open(QIODevice::Append))
            log.write(chunk);
        m_lineBuffer += chunk;
        qsizetype nl;
        while ((nl = m_lineBuffer.indexOf('\n')) >= 0) {
            const QByteArray line = m_lineBuffer.left(nl).trimmed();
            m_lineBuffer.remove(0, nl + 1);
            if (line.startsWith("PROGRESS ")) {
                const QList<QByteArray> parts = line.mid(9).split(' ');
                const int pct = parts.value(0).toInt();
                const QString text = QString::fromUtf8(line.mid(9 + parts.value(0).size() + 1));
                setStatus(State::Building, pct, text);
                qCInfo(lcImage).noquote() << QStringLiteral("guest image %1: %2% %3").arg(m_version).arg(pct).arg(text);
            } else if (line.startsWith("error:") || line.startsWith("E:")) {
                qCWarning(lcImage).noquote() << "guest image:" << QString::fromUtf8(line);
            }
        }
    });
    connect(m_process, &QProcess::finished, this, [this, partial](int code, QProcess::ExitStatus status) {
        m_process->deleteLater();
        m_process = nullptr;
        if (status != QProcess::NormalExit || code != 0) {
            finish(QStringLiteral("building the guest image failed (exit %1); see %2").arg(code).arg(logPath()));
            return;
        }
        QFile stamp(partial + QStringLiteral("/VERSION"));
        if (!stamp.open(QIODevice::WriteOnly) || stamp.write(m_version.toUtf8() + '\n') < 0) {
            finish(QStringLiteral("cannot write %1").arg(stamp.fileName()));
            return;
        }
        stamp.close();
        QDir(dir()).removeRecursively();
        if (!QDir().rename(partial, dir())) {
            finish(QStringLiteral("cannot move the built image into %1").arg(dir()));
            return;
        }
        finish(QString());
    });
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) {
            m_process->deleteLater();
            m_process = nullptr;
            finish(QStringLiteral("cannot run the guest image recipe (bash missing?)"));
        }
    });
    m_process->start();
}

void GuestImage::finish(const QString &error)
{
    if (error.isEmpty()) {
        setStatus(State::Ready, 100, QStringLiteral("guest image %1 ready").arg(m_version));
        qCInfo(lcImage).noquote() << "guest image" << m_version << "ready in" << dir();
    } else {
        setStatus(State::Failed, m_progress, error);
        qCWarning(lcImage).noquote() << error;
    }
    const auto waiters = std::exchange(m_waiters, {});
    for (const auto &w : waiters)
        w(error);
}

} // namespace viv
