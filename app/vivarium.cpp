// vivarium: the desktop application. The backend runs embedded on its own thread, serving the
// same API as vivariumd on loopback; the window talks to it in process through signals.

#include "AppSettings.h"
#include "Translations.h"
#include "BackendBridge.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QIcon>
#include <QLoggingCategory>
#include <QLibraryInfo>
#include <QLocale>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication::setApplicationName(QStringLiteral("vivarium"));
    QCoreApplication::setApplicationVersion(QStringLiteral(VIVARIUM_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Vivarium: design agents, environments and vaults and watch live sessions. The "
        "embedded backend serves the Managed Agents API on loopback (see vivariumd --help)."));
    const QCommandLineOption helpOpt = parser.addHelpOption();
    const QCommandLineOption versionOpt = parser.addVersionOption();
    const QCommandLineOption listenOpt(QStringLiteral("listen"),
                                       QStringLiteral("API address (default 127.0.0.1:%1).")
                                           .arg(viv::Config::kDefaultPort),
                                       QStringLiteral("HOST:PORT"));
    const QCommandLineOption dataOpt(QStringLiteral("data-dir"),
                                     QStringLiteral("Data directory (default %1).")
                                         .arg(viv::Config::defaultDataDir()),
                                     QStringLiteral("DIR"));
    parser.addOptions({listenOpt, dataOpt});
    {
        // --help and --version answer on the terminal without a display: a QApplication would
        // need one, so they are served by a QCoreApplication before it exists.
        QStringList args;
        for (int i = 0; i < argc; ++i)
            args << QString::fromLocal8Bit(argv[i]);
        if (parser.parse(args) && (parser.isSet(helpOpt) || parser.isSet(versionOpt))) {
            QCoreApplication core(argc, argv);
            parser.process(core); // prints and exits
            return 0;
        }
    }

    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName(QStringLiteral("Vivarium"));
    QApplication::setDesktopFileName(QStringLiteral("io.github.vivarium.Vivarium"));
    // The installed hicolor icon (PNG sizes rendered from the SVG at build; resources/).
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("io.github.vivarium.Vivarium")));

    // Per-request access lines are debug output; QT_LOGGING_RULES (e.g.
    // "vivarium.api.debug=true") turns them on and overrides this default.
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.debug=false"));
    viv::Config config = viv::Config::fromEnvironment();

    parser.process(app);
    if (parser.isSet(dataOpt)) // a data directory given on the command line carries its own settings
        viv::AppSettings::setLocation(QDir(parser.value(dataOpt)).filePath(QStringLiteral("settings.ini")));
    // Settings apply where the environment and the command line say nothing: the API port
    // (unless --listen), the providers' base URLs, the warm pool and the VM size. Provider keys
    // come from the keychain (Backend::start).
    const viv::AppSettings settings = viv::AppSettings::load();
    config.port = quint16(settings.apiPort);
    if (!qEnvironmentVariableIsSet("ANTHROPIC_BASE_URL") && !settings.anthropicBaseUrl.isEmpty())
        config.anthropic.baseUrl = QUrl(settings.anthropicBaseUrl);
    if (!qEnvironmentVariableIsSet("OPENAI_BASE_URL") && !settings.openAiBaseUrl.isEmpty())
        config.openai.baseUrl = QUrl(settings.openAiBaseUrl);
    for (const auto &[var, value] : {std::pair{"VIVARIUM_WARM_POOL", settings.warmPoolSize},
                                     std::pair{"VIVARIUM_SANDBOX_CPUS", settings.vmCpus},
                                     std::pair{"VIVARIUM_SANDBOX_MEMORY_MB", settings.vmMemoryMiB}})
        if (!qEnvironmentVariableIsSet(var))
            qputenv(var, QByteArray::number(value));
    if (!qEnvironmentVariableIsSet("VIVARIUM_SANDBOX_ACCEL"))
        qputenv("VIVARIUM_SANDBOX_ACCEL", settings.vmAccel.toUtf8());
    if (parser.isSet(listenOpt)) {
        QString error;
        if (!config.setListen(parser.value(listenOpt), &error)) {
            std::fprintf(stderr, "vivarium: %s\n", qPrintable(error));
            return 2;
        }
    }
    if (parser.isSet(dataOpt))
        config.dataDir = parser.value(dataOpt);

    viv::installTranslations(app); // Qt's own strings (standard buttons, dialogs) and Vivarium's

    // The backend lives on its own thread (BackendBridge) so that database and keychain work
    // never stalls the GUI; the window reaches it in process, never over HTTP.
    viv::BackendBridge bridge;
    viv::MainWindow window(bridge);
    window.show();
    bridge.start(config);

    const int rc = app.exec();
    bridge.stop();
    return rc;
}
