#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QMutex>
#include <QRandomGenerator>
#include <QString>
#include <QTemporaryDir>

#include <cstdio>

// The end-of-suite secret scan (tests/scan-secrets.sh, ctest `secret_scan`), shared by the API
// and GUI harnesses: under ctest (VIVARIUM_TEST_ARTIFACTS and VIVARIUM_TEST_SECRETS set, see
// tests/CMakeLists.txt) every embedded backend's data dir and this process's Qt log outlive the
// test in the artifacts dir, and every secret value a test enters or sends is appended to the
// ledger. Outside ctest data dirs are temporary and nothing is recorded.
namespace TestArtifacts {

inline bool enabled()
{
    return !qEnvironmentVariableIsEmpty("VIVARIUM_TEST_ARTIFACTS");
}

// Records a secret value a test enters or sends; returns it.
inline QString recordSecret(const QString &secret)
{
    const QString ledger = qEnvironmentVariable("VIVARIUM_TEST_SECRETS");
    if (!ledger.isEmpty()) {
        QFile f(ledger);
        if (f.open(QIODevice::Append | QIODevice::Text))
            f.write(secret.toUtf8() + '\n');
    }
    return secret;
}

// A value unique to this run, for secrets.
inline QString unique(const QString &prefix)
{
    return prefix + QString::number(QRandomGenerator::system()->generate64(), 16);
}

// Copies every Qt log message of this process (the backend thread's included) into
// $VIVARIUM_TEST_ARTIFACTS/log-<pid>.txt, then hands it to the previous handler. Install it
// inside the test run (initTestCase or later): QTest::qExec replaces the handler that was
// installed before it started and does not chain to it.
inline void teeLogToArtifacts()
{
    static QtMessageHandler previous = nullptr;
    static bool installed = false;
    if (installed || !enabled())
        return;
    installed = true;
    previous = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &ctx, const QString &msg) {
        static QMutex mutex; // the GUI thread and the backend thread log at once
        static thread_local bool inside = false;
        if (inside) { // a handler that hands back to this one (QTest's after the run): written already
            std::fprintf(stderr, "%s\n", qPrintable(qFormatLogMessage(type, ctx, msg)));
            return;
        }
        {
            QMutexLocker lock(&mutex);
            static QFile log(qEnvironmentVariable("VIVARIUM_TEST_ARTIFACTS")
                             + QStringLiteral("/log-%1.txt").arg(QCoreApplication::applicationPid()));
            if (!log.isOpen())
                log.open(QIODevice::Append | QIODevice::Text);
            log.write(qFormatLogMessage(type, ctx, msg).toUtf8() + '\n');
            log.flush();
        }
        inside = true;
        if (previous)
            previous(type, ctx, msg);
        inside = false;
    });
}

// Where a test keeps a file worth looking at after the run (a screenshot): `name` in the
// artifacts dir under ctest (created when missing), else in `fallbackDir`.
inline QString filePath(const QString &name, const QString &fallbackDir)
{
    const QString dir = enabled() ? qEnvironmentVariable("VIVARIUM_TEST_ARTIFACTS") : fallbackDir;
    QDir().mkpath(dir);
    return dir + u'/' + name;
}

// Where a backend's data dir goes: the artifacts dir under ctest, else the system's temp dir.
inline QString dirTemplate(const QString &prefix)
{
    const QString artifacts = qEnvironmentVariable("VIVARIUM_TEST_ARTIFACTS");
    return (artifacts.isEmpty() ? QDir::tempPath() : artifacts) + u'/' + prefix + QStringLiteral("-XXXXXX");
}

// A backend's data dir: kept (with the log tee installed) under ctest, removed otherwise.
class DataDir : public QTemporaryDir
{
public:
    explicit DataDir(const QString &prefix) : QTemporaryDir(dirTemplate(prefix))
    {
        if (enabled()) {
            setAutoRemove(false);
            teeLogToArtifacts();
        }
    }
};

} // namespace TestArtifacts
