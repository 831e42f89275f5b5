// vivariumd: the Vivarium backend without a GUI. Serves the Managed Agents API on loopback.

#include "Backend.h"
#include "secrets/SecretStore.h"

#include <QCommandLineParser>
#include <QLoggingCategory>
#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int g_signalFd[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] auto n = ::write(g_signalFd[0], &c, 1);
}

// SIGINT/SIGTERM end the event loop cleanly (self-pipe: a handler may only write()).
void installSignalHandlers(QCoreApplication &app)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalFd) != 0)
        return;
    auto *notifier = new QSocketNotifier(g_signalFd[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [&app] {
        char c;
        [[maybe_unused]] auto n = ::read(g_signalFd[1], &c, 1);
        app.quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vivariumd"));
    QCoreApplication::setApplicationVersion(QStringLiteral(VIVARIUM_VERSION));

    // Per-request access lines are debug output; QT_LOGGING_RULES (e.g.
    // "vivarium.api.debug=true") turns them on and overrides this default.
    QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*.debug=false"));
    viv::Config config = viv::Config::fromEnvironment();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Vivarium headless backend: serves the Managed Agents API (the official Anthropic SDK "
        "works against it by changing baseURL and the API key).\n\n"
        "Environment:\n"
        "  VIVARIUM_API_KEY     fixes the accepted API key (else one is generated at first\n"
        "                       start and kept in the OS keychain)\n"
        "  ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY  default Anthropic Messages provider\n"
        "  OPENAI_BASE_URL, OPENAI_API_KEY        default OpenAI-compatible provider\n"
        "  VIVARIUM_KEYCHAIN_SERVICE  keychain service name (default \"vivarium\")\n"
        "  VIVARIUM_LIBVIRT_URI, VIVARIUM_WARM_POOL, VIVARIUM_SANDBOX_ACCEL,\n"
        "  VIVARIUM_SANDBOX_MEMORY_MB, VIVARIUM_SANDBOX_CPUS, VIVARIUM_SANDBOX_TOOLS,\n"
        "  VIVARIUM_SANDBOX_IDLE_PAUSE_S, VIVARIUM_SANDBOX_IDLE_STOP_S, VIVARIUM_BASH_TIMEOUT_MS,\n"
        "  VIVARIUM_SANDBOX_TEMPLATES, VIVARIUM_WEB_SEARCH_URL, VIVARIUM_IMAGE_DIR,\n"
        "  VIVARIUM_KVM_PROBE_MS\n"
        "                       sandboxes (README \"Sandboxes\")\n"
        "  VIVARIUM_MODEL_PRICES  JSON {\"<model id>\": {\"input\", \"output\", \"cache_read\",\n"
        "                       \"cache_write\"}} in USD per million tokens: list prices for usage\n"
        "                       and budgets (overrides the built-in table; unpriced models cost 0)\n"
        "  VIVARIUM_MODEL_CONTEXT_WINDOWS  JSON {\"<model id or prefix>\": <tokens>, \"*\": <tokens>}:\n"
        "                       context windows for compaction (overrides the built-in table;\n"
        "                       models with no known window are never compacted)\n"
        "  VIVARIUM_OUTCOME_HEARTBEAT_MS  period of span.outcome_evaluation_ongoing (10000)"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption listenOpt(
        QStringLiteral("listen"),
        QStringLiteral("Address to listen on (default 127.0.0.1:%1). Loopback unless you say "
                       "otherwise.")
            .arg(viv::Config::kDefaultPort),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption dataOpt(
        QStringLiteral("data-dir"),
        QStringLiteral("Directory for the database and caches (default %1).")
            .arg(viv::Config::defaultDataDir()),
        QStringLiteral("DIR"));
    const QCommandLineOption printKeyOpt(
        QStringLiteral("print-api-key"),
        QStringLiteral("Print the API key (generating and storing it in the keychain if there "
                       "is none yet) and exit."));
    parser.addOptions({listenOpt, dataOpt, printKeyOpt});
    parser.process(app);

    if (parser.isSet(listenOpt)) {
        QString error;
        if (!config.setListen(parser.value(listenOpt), &error)) {
            std::fprintf(stderr, "vivariumd: %s\n", qPrintable(error));
            return 2;
        }
    }
    if (parser.isSet(dataOpt))
        config.dataDir = parser.value(dataOpt);

    if (parser.isSet(printKeyOpt)) {
        viv::SecretStore secrets(config.keychainService);
        auto key = viv::Backend::resolveApiKey(secrets, config.apiKey);
        if (!key) {
            std::fprintf(stderr, "vivariumd: %s\n", qPrintable(key.error().message()));
            return 1;
        }
        std::printf("%s\n", qPrintable(*key));
        return 0;
    }

    installSignalHandlers(app);
    viv::Backend backend(config);
    if (auto s = backend.start(); !s) {
        std::fprintf(stderr, "vivariumd: %s\n", qPrintable(s.error().message()));
        return 1;
    }
    std::fprintf(stdout, "vivariumd %s listening on %s\n", VIVARIUM_VERSION,
                 qPrintable(backend.baseUrl()));
    std::fflush(stdout);
    return app.exec();
}
