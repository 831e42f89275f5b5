#include "EnvironmentLayers.h"

#include "SandboxManager.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QProcess>
#include <QRegularExpression>

Q_LOGGING_CATEGORY(lcLayers, "vivarium.sandbox.layers")

namespace viv {

namespace {
const QStringList kManagers = {QStringLiteral("apt"), QStringLiteral("pip"), QStringLiteral("npm"),
                               QStringLiteral("cargo"), QStringLiteral("go"), QStringLiteral("gem")};

QString quote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + q + u'\'';
}

QStringList listOf(const QJsonObject &packages, const QString &manager)
{
    QStringList out;
    for (const QJsonValue &v : packages.value(manager).toArray())
        if (!v.toString().isEmpty())
            out << v.toString();
    return out;
}

QString joinQuoted(const QStringList &items)
{
    QStringList q;
    for (const QString &s : items)
        q << quote(s);
    return q.join(u' ');
}

// `key = value` from the first ini/npmrc-style file that sets it (comments and sections ignored).
QString configValue(const QStringList &files, const QString &key)
{
    const QRegularExpression re(QStringLiteral("^\\s*%1\\s*=\\s*(\\S+)\\s*$").arg(QRegularExpression::escape(key)));
    for (const QString &path : files) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : f.readAll().split('\n')) {
            const auto m = re.match(QString::fromUtf8(line));
            if (m.hasMatch())
                return m.captured(1);
        }
    }
    return {};
}

// The npm registry this machine is configured for (the guest uses the same one), or empty.
QString hostNpmRegistry()
{
    for (const char *var : {"npm_config_registry", "NPM_CONFIG_REGISTRY"})
        if (qEnvironmentVariableIsSet(var))
            return qEnvironmentVariable(var);
    const QString value = configValue({QDir::homePath() + QStringLiteral("/.npmrc"), QStringLiteral("/etc/npmrc"),
                                       QStringLiteral("/usr/etc/npmrc")},
                                      QStringLiteral("registry"));
    static const QRegularExpression url(QStringLiteral("^https?://[^\\s'\"]+$"));
    return url.match(value).hasMatch() ? value : QString();
}

// What a session on a failed layer is told: the reason and where the log is.
ApiError failure(const QString &layerDir, const QString &why)
{
    return ApiError::invalid(QStringLiteral("the environment's packages failed to install: %1 (build log: %2)")
                                 .arg(why, layerDir + QStringLiteral("/build.log")));
}

QString readText(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}
} // namespace

QJsonObject EnvironmentLayers::Status::toJson() const
{
    static const char *names[] = {"none", "building", "ready", "failed"};
    QJsonObject o{{QStringLiteral("state"), QString::fromLatin1(names[int(state)])}};
    if (!hash.isEmpty())
        o.insert(QStringLiteral("layer"), hash);
    if (!text.isEmpty())
        o.insert(QStringLiteral("message"), text);
    return o;
}

EnvironmentLayers::EnvironmentLayers(SandboxManager &sandboxes, QString layersDir, QObject *parent)
    : QObject(parent), m_sandboxes(sandboxes), m_dir(std::move(layersDir))
{
}

bool EnvironmentLayers::hasPackages(const QJsonObject &packages)
{
    for (const QString &m : kManagers)
        if (!listOf(packages, m).isEmpty())
            return true;
    return false;
}

QString EnvironmentLayers::hashOf(const QJsonObject &config) const
{
    const QJsonObject packages = config.value(QStringLiteral("packages")).toObject();
    if (!hasPackages(packages))
        return {};
    QJsonObject canonical;
    for (const QString &m : kManagers)
        canonical.insert(m, QJsonArray::fromStringList(listOf(packages, m)));
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(m_sandboxes.image().version().toUtf8());
    h.addData("\n");
    h.addData(QJsonDocument(canonical).toJson(QJsonDocument::Compact)); // keys sorted
    h.addData("\n");
    h.addData(installScript(canonical, QString()).toUtf8()); // a changed recipe is a new layer
    return QString::fromLatin1(h.result().toHex().left(16));
}

QString EnvironmentLayers::dirOf(const QString &hash) const
{
    return m_dir + u'/' + hash;
}

QString EnvironmentLayers::installScript(const QJsonObject &packages, const QString &npmRegistry)
{
    const QStringList apt = listOf(packages, QStringLiteral("apt"));
    const QStringList pip = listOf(packages, QStringLiteral("pip"));
    const QStringList npm = listOf(packages, QStringLiteral("npm"));
    const QStringList cargo = listOf(packages, QStringLiteral("cargo"));
    const QStringList go = listOf(packages, QStringLiteral("go"));
    const QStringList gem = listOf(packages, QStringLiteral("gem"));
    QStringList tools; // package managers themselves come from apt
    if (!pip.isEmpty())
        tools << QStringLiteral("python3-pip");
    if (!npm.isEmpty())
        tools << QStringLiteral("npm");
    if (!cargo.isEmpty())
        tools << QStringLiteral("cargo");
    if (!go.isEmpty())
        tools << QStringLiteral("golang-go");
    if (!gem.isEmpty())
        tools << QStringLiteral("ruby");

    QStringList s;
    s << QStringLiteral("set -eu") << QStringLiteral("exec 2>&1")
      << QStringLiteral("export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root")
      // QEMU's user-mode network answers DNS at 10.0.2.3, whatever the host uses.
      << QStringLiteral("echo 'nameserver 10.0.2.3' > /etc/resolv.conf")
      << QStringLiteral("echo '== apt-get update'")
      << QStringLiteral("apt-get update -q");
    if (!apt.isEmpty() || !tools.isEmpty()) {
        s << QStringLiteral("echo '== apt-get install'")
          << QStringLiteral("apt-get install -y -q --no-install-recommends -- %1").arg(joinQuoted(apt + tools));
    }
    if (!pip.isEmpty())
        s << QStringLiteral("echo '== pip install'")
          << QStringLiteral("python3 -m pip install --no-cache-dir --break-system-packages -- %1").arg(joinQuoted(pip));
    if (!npm.isEmpty())
        s << QStringLiteral("echo '== npm install -g'")
          << QStringLiteral("npm install -g --no-fund --no-audit %1-- %2")
                 .arg(npmRegistry.isEmpty() ? QString() : QStringLiteral("--registry=%1 ").arg(quote(npmRegistry)),
                      joinQuoted(npm));
    if (!cargo.isEmpty())
        s << QStringLiteral("echo '== cargo install'")
          << QStringLiteral("cargo install --root /usr/local -- %1").arg(joinQuoted(cargo));
    if (!go.isEmpty()) {
        QStringList mods;
        for (const QString &m : go)
            mods << (m.contains(u'@') ? m : m + QStringLiteral("@latest"));
        s << QStringLiteral("echo '== go install'")
          << QStringLiteral("GOBIN=/usr/local/bin GOPATH=/root/go go install %1").arg(joinQuoted(mods));
    }
    if (!gem.isEmpty())
        s << QStringLiteral("echo '== gem install'")
          << QStringLiteral("gem install --no-document -- %1").arg(joinQuoted(gem));
    s << QStringLiteral("apt-get clean") << QStringLiteral("rm -rf /var/lib/apt/lists/*")
      << QStringLiteral("sync") << QStringLiteral("echo '== done'");
    return s.join(u'\n') + u'\n';
}

EnvironmentLayers::Status EnvironmentLayers::status(const QJsonObject &config) const
{
    Status st;
    st.hash = hashOf(config);
    if (st.hash.isEmpty())
        return st;
    const QString dir = dirOf(st.hash);
    st.logPath = dir + QStringLiteral("/build.log");
    if (m_waiters.contains(st.hash)) {
        st.state = State::Building;
        st.text = m_text.value(st.hash);
    } else if (QFile::exists(dir + QStringLiteral("/failed"))) {
        st.state = State::Failed;
        st.text = readText(dir + QStringLiteral("/failed"));
    } else if (QFile::exists(dir + QStringLiteral("/layer.qcow2"))) {
        st.state = State::Ready;
    } else {
        st.state = State::None; // not built yet: the first session builds it
        st.text = QStringLiteral("not built yet");
    }
    return st;
}

void EnvironmentLayers::rebuild(const QJsonObject &config, Callback<QString> done)
{
    const QString hash = hashOf(config);
    if (!hash.isEmpty() && !m_waiters.contains(hash)) {
        QFile::remove(dirOf(hash) + QStringLiteral("/failed"));
        QFile::remove(dirOf(hash) + QStringLiteral("/layer.qcow2"));
    }
    ensure(config, std::move(done));
}

void EnvironmentLayers::ensure(const QJsonObject &config, Callback<QString> done)
{
    const QString hash = hashOf(config);
    if (hash.isEmpty())
        return done(m_sandboxes.image().baseDisk());
    const QString dir = dirOf(hash);
    if (auto it = m_waiters.find(hash); it != m_waiters.end()) {
        it->append(std::move(done));
        return;
    }
    if (QFile::exists(dir + QStringLiteral("/failed")))
        return done(failure(dir, readText(dir + QStringLiteral("/failed"))));
    if (QFile::exists(dir + QStringLiteral("/layer.qcow2")))
        return done(QString(dir + QStringLiteral("/layer.qcow2")));
    m_waiters[hash].append(std::move(done));
    build(hash, config.value(QStringLiteral("packages")).toObject());
}

void EnvironmentLayers::setText(const QString &hash, State state, const QString &text)
{
    m_text.insert(hash, text);
    qCInfo(lcLayers).noquote() << "layer" << hash << text;
    Q_EMIT statusChanged(hash, state, text);
}

void EnvironmentLayers::build(const QString &hash, const QJsonObject &packages)
{
    const QString dir = dirOf(hash);
    const QString tmp = dir + QStringLiteral("/layer.qcow2.building");
    const QString log = dir + QStringLiteral("/build.log");
    setText(hash, State::Building, QStringLiteral("preparing the layer"));
    m_sandboxes.image().ensure([this, hash, packages, dir, tmp, log](const QString &imageError) {
        if (!imageError.isEmpty())
            return finish(hash, QStringLiteral("the guest image is not available: %1").arg(imageError));
        QDir().mkpath(dir);
        QFile::remove(tmp);
        QFile::remove(log);
        auto *img = new QProcess(this);
        img->setProcessChannelMode(QProcess::MergedChannels);
        connect(img, &QProcess::finished, this, [=, this](int code, QProcess::ExitStatus st) {
            img->deleteLater();
            if (st != QProcess::NormalExit || code != 0)
                return finish(hash, QStringLiteral("qemu-img create failed: %1").arg(QString::fromUtf8(img->readAll()).trimmed()));
            setText(hash, State::Building, QStringLiteral("booting the build VM"));
            m_sandboxes.createBuilder(tmp, [=, this](Result<SandboxManager::Info> vm) {
                if (!vm)
                    return finish(hash, QStringLiteral("the build VM did not start: %1").arg(vm.error().message()));
                const QString id = vm->id;
                const QString script = installScript(packages, hostNpmRegistry());
                {
                    QFile f(log);
                    if (f.open(QIODevice::WriteOnly))
                        f.write("# install script\n" + script.toUtf8() + "# output\n");
                }
                setText(hash, State::Building, QStringLiteral("installing packages"));
                SandboxManager::ExecRequest req;
                req.argv = {QStringLiteral("/bin/sh"), QStringLiteral("-c"), script};
                req.cwd = QStringLiteral("/");
                req.timeoutMs = kBuildTimeoutMs;
                req.maxOutput = 4 * 1024 * 1024;
                m_sandboxes.exec(id, req, [=, this](Result<SandboxManager::ExecResult> r) {
                    QString error;
                    if (!r) {
                        error = r.error().message();
                    } else {
                        QFile f(log);
                        if (f.open(QIODevice::Append))
                            f.write(r->stdoutData + r->stderrData);
                        if (r->timedOut)
                            error = QStringLiteral("the install timed out after %1 minutes").arg(kBuildTimeoutMs / 60000);
                        else if (r->exitCode.value_or(-1) != 0) {
                            const QStringList lines = QString::fromUtf8(r->stdoutData + r->stderrData).trimmed().split(u'\n');
                            error = QStringLiteral("the install script exited with %1: %2")
                                        .arg(r->exitCode ? QString::number(*r->exitCode) : QStringLiteral("a signal"),
                                             lines.mid(qMax(0, int(lines.size()) - 3)).join(QStringLiteral(" / ")));
                        }
                    }
                    setText(hash, State::Building, QStringLiteral("stopping the build VM"));
                    m_sandboxes.destroy(id, [=, this](const viv::Status &) {
                        if (!error.isEmpty())
                            return finish(hash, error);
                        QFile::remove(dir + QStringLiteral("/layer.qcow2"));
                        if (!QFile::rename(tmp, dir + QStringLiteral("/layer.qcow2")))
                            return finish(hash, QStringLiteral("cannot move the finished layer into place"));
                        QFile::setPermissions(dir + QStringLiteral("/layer.qcow2"), QFile::ReadOwner);
                        finish(hash, QString());
                    });
                });
            });
        });
        img->start(QStringLiteral("qemu-img"), {QStringLiteral("create"), QStringLiteral("-q"), QStringLiteral("-f"),
                                                QStringLiteral("qcow2"), QStringLiteral("-F"), QStringLiteral("qcow2"),
                                                QStringLiteral("-b"), m_sandboxes.image().baseDisk(), tmp});
    });
}

void EnvironmentLayers::finish(const QString &hash, const QString &error)
{
    const QString dir = dirOf(hash);
    if (!error.isEmpty()) {
        QFile::remove(dir + QStringLiteral("/layer.qcow2.building"));
        QFile f(dir + QStringLiteral("/failed"));
        if (f.open(QIODevice::WriteOnly))
            f.write(error.toUtf8());
        qCWarning(lcLayers).noquote() << "layer" << hash << "failed:" << error;
    }
    const auto waiters = m_waiters.take(hash);
    m_text.remove(hash);
    Q_EMIT statusChanged(hash, error.isEmpty() ? State::Ready : State::Failed,
                         error.isEmpty() ? QStringLiteral("ready") : error);
    for (const auto &w : waiters) {
        if (error.isEmpty())
            w(QString(dir + QStringLiteral("/layer.qcow2")));
        else
            w(failure(dir, error));
    }
}

} // namespace viv
