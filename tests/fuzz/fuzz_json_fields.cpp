// JSON validation of every resource, through the services the controllers call (agents,
// environments, sessions and their events, vaults and credentials, file metadata), over a real
// SQLite file in a temporary directory (on /dev/shm when there is one: commits are fsynced).
//
// Input: one selector byte (which operation), then the request body. Beyond "no crash, no UB":
// bad input is a 4xx (never a 5xx) with a message, and the parsed JSON survives a
// serialise/parse round trip as the services store it.
#include "FuzzCheck.h"

#include "core/JsonFields.h"
#include "core/Validators.h"
#include "secrets/SecretStore.h"
#include "services/AgentService.h"
#include "services/CredentialAuth.h"
#include "services/EnvironmentService.h"
#include "services/EventLog.h"
#include "services/FileService.h"
#include "services/MemoryStoreService.h"
#include "services/SessionService.h"
#include "services/VaultService.h"
#include "store/Database.h"

#include <QCoreApplication>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

using namespace viv;

namespace {

struct World
{
    QTemporaryDir dir{QDir(QDir(QStringLiteral("/dev/shm")).exists() ? QStringLiteral("/dev/shm")
                                                                     : QDir::tempPath())
                          .filePath(QStringLiteral("vivarium-fuzz-XXXXXX"))};
    Database db;
    EventLog *log = nullptr;
    SecretStore *secrets = nullptr;
    AgentService *agents = nullptr;
    EnvironmentService *envs = nullptr;
    VaultService *vaults = nullptr;
    FileService *files = nullptr;
    SessionService *sessions = nullptr;
    MemoryStoreService *memory = nullptr;
    QString agentId, envId, vaultId, sessionId, memoryStoreId, memoryId;
};

World *world = nullptr;

QJsonObject must(const Result<QJsonObject> &r, const char *what)
{
    if (!r) {
        std::fprintf(stderr, "fuzz_json_fields: cannot set up (%s): %s\n", what, qPrintable(r.error().message()));
        std::abort();
    }
    return *r;
}

QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(R"({)" + json + R"(})").object();
}

// A refusal of bad input: a 4xx with a message. A 5xx here is a finding.
void checkRefusal(const ApiError &e)
{
    if (e.httpStatus() >= 500)
        std::fprintf(stderr, "5xx on input: %d %s\n", e.httpStatus(), qPrintable(e.message()));
    FUZZ_CHECK(e.httpStatus() >= 400 && e.httpStatus() < 500);
    FUZZ_CHECK(!e.message().isEmpty());
}

template <typename T>
void check(const Result<T> &r)
{
    if (!r)
        checkRefusal(r.error());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv);
    qputenv("QT_LOGGING_RULES", "*.debug=false;*.info=false;vivarium.*.warning=false");
    world = new World;
    World &w = *world;
    if (!w.dir.isValid() || !w.db.open(w.dir.filePath(QStringLiteral("vivarium.db")))) {
        std::fprintf(stderr, "fuzz_json_fields: cannot open a database in %s\n", qPrintable(w.dir.path()));
        std::abort();
    }
    // The world lives to the end of the process (deleting it from an exit handler crashed inside
    // Qt, whose own statics are being torn down by then); only its temporary directory is
    // removed at exit (the time limit, -runs). A crash leaves the directory for inspection.
    static const std::string dirPath = w.dir.path().toStdString();
    w.dir.setAutoRemove(false);
    std::atexit([] {
        std::error_code ignored;
        std::filesystem::remove_all(dirPath, ignored);
    });
    w.log = new EventLog(w.db);
    w.secrets = new SecretStore(QStringLiteral("vivarium-fuzz"));
    w.agents = new AgentService(w.db);
    w.envs = new EnvironmentService(w.db);
    w.vaults = new VaultService(w.db, *w.secrets);
    w.files = new FileService(w.db, w.dir.filePath(QStringLiteral("files")));
    w.sessions = new SessionService(w.db, *w.log, *w.agents, *w.envs, *w.vaults, *w.files, *w.secrets);
    w.agentId = must(w.agents->create(parseObject(R"("name":"fuzz","model":"claude-sonnet-4-5")")), "agent")
                    .value(QStringLiteral("id")).toString();
    w.envId = must(w.envs->create(parseObject(R"("name":"fuzz","config":{"type":"cloud"})")), "environment")
                  .value(QStringLiteral("id")).toString();
    w.vaultId = must(w.vaults->create(parseObject(R"("display_name":"fuzz")")), "vault")
                    .value(QStringLiteral("id")).toString();
    w.sessionId = must(w.sessions->create(QJsonObject{{QStringLiteral("agent"), w.agentId},
                                                      {QStringLiteral("environment_id"), w.envId}}),
                       "session")
                      .value(QStringLiteral("id")).toString();
    w.memory = new MemoryStoreService(w.db);
    w.memoryStoreId = must(w.memory->createStore(parseObject(R"("name":"fuzz")")), "memory store")
                          .value(QStringLiteral("id")).toString();
    w.memoryId = must(w.memory->createMemory(w.memoryStoreId, parseObject(R"("path":"/fuzz.md","content":"x")"),
                                             MemoryView::Basic, MemoryActor::api(QStringLiteral("apikey_01fuzz"))),
                      "memory")
                     .value(QStringLiteral("id")).toString();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    World &w = *world;
    const uint8_t op = data[0];
    const QByteArray json(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject())
        return 0; // the controllers answer 400 before any service sees it
    const QJsonObject params = doc.object();
    // What the services store is the compact serialisation; it must read back the same.
    FUZZ_CHECK(QJsonDocument::fromJson(QJsonDocument(params).toJson(QJsonDocument::Compact)).object() == params);

    // Ops 0xF0–0xFF: the memory stores (the other ops keep their old meaning, and their seeds).
    if (op >= 0xF0) {
        const auto actor = MemoryActor::session(QStringLiteral("sesn_01fuzz"));
        switch (op & 3) {
        case 0: check(w.memory->createStore(params)); break;
        case 1: check(w.memory->updateStore(w.memoryStoreId, params)); break;
        case 2: {
            auto m = w.memory->createMemory(w.memoryStoreId, params, MemoryView::Full, actor);
            check(m);
            if (m) // what was stored is what the path rules allow
                FUZZ_CHECK(validate::memoryPathProblem(m->value(QStringLiteral("path")).toString()).isEmpty());
            break;
        }
        case 3: check(w.memory->updateMemory(w.memoryStoreId, w.memoryId, params, MemoryView::Basic, actor)); break;
        }
        return 0;
    }

    switch (op % 14) {
    case 0: check(w.agents->create(params)); break;
    case 1: check(w.agents->update(w.agentId, params)); break;
    case 2: check(AgentService::normalizeTools(params.value(QStringLiteral("tools")),
                                               params.value(QStringLiteral("mcp_servers")))); break;
    case 3: check(w.envs->create(params)); break;
    case 4: check(w.envs->update(w.envId, params)); break;
    case 5: {
        QJsonObject p = params;
        // Most creates name the seeded agent and environment, so validation gets past them.
        if ((op / 14) % 2 == 0) {
            if (!p.contains(QStringLiteral("agent")))
                p.insert(QStringLiteral("agent"), w.agentId);
            if (!p.contains(QStringLiteral("environment_id")))
                p.insert(QStringLiteral("environment_id"), w.envId);
        }
        check(w.sessions->create(p));
        break;
    }
    case 6: check(w.sessions->update(w.sessionId, params)); break;
    case 7: check(w.sessions->sendEvents(w.sessionId, params)); break;
    case 8: check(w.vaults->create(params)); break;
    case 9: check(w.vaults->update(w.vaultId, params)); break;
    case 10: check(credentialauth::parseCreateAuth(params, (op / 14) % 2 == 1)); break;
    case 11: {
        // An update patch against a stored auth of each type.
        static const QJsonObject current[] = {
            parseObject(R"("type":"static_bearer","mcp_server_url":"https://mcp.example.com/sse")"),
            parseObject(R"("type":"environment_variable","secret_name":"API_KEY","networking":{"type":"unrestricted"},"injection_location":{"header":true,"body":false})"),
            parseObject(R"("type":"mcp_oauth","mcp_server_url":"https://mcp.example.com/sse","expires_at":null,"refresh":{"client_id":"c","token_endpoint":"https://auth.example.com/token","token_endpoint_auth":{"type":"none"},"resource":null,"scope":null})"),
        };
        check(credentialauth::parseUpdateAuth(params, current[(op / 14) % 3]));
        break;
    }
    case 12: {
        // File metadata as the upload form carries it: filename and Content-Type.
        const QString filename = params.value(QStringLiteral("filename")).toString();
        const QString mime = params.value(QStringLiteral("mime_type")).toString();
        if (auto m = FileService::normalizeMimeType(mime)) {
            auto name = FileService::sanitizeFilename(filename, *m);
            check(name);
            if (name) {
                FUZZ_CHECK(!name->contains(u'/') && !name->contains(u'\\'));
                FUZZ_CHECK(controlCharacterProblem(*name).isEmpty());
            }
        } else {
            checkRefusal(m.error());
        }
        break;
    }
    case 13: {
        // JsonFields on its own: every accessor over every key.
        JsonFields f(params);
        for (auto it = params.begin(); it != params.end(); ++it) {
            f.string(it.key());
            f.text(it.key(), JsonFields::Optional, 100);
            f.integer(it.key(), JsonFields::Optional, -5, 5);
            f.boolean(it.key());
            f.array(it.key(), JsonFields::Optional, 3);
            f.metadata(it.key(), true);
        }
        if (!f.ok())
            checkRefusal(f.error());
        QJsonObject current;
        QString why = applyMetadataPatch(current, params);
        if (why.isEmpty())
            FUZZ_CHECK(current.size() <= 16);
        break;
    }
    }
    return 0;
}
