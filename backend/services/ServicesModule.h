#pragma once

#include <QString>

class QObject;

namespace viv {

class Database;
class SecretStore;
class EnvironmentService;
class FileService;
class SkillService;
class AgentService;
class VaultService;
class EventLog;
class SessionService;
class CredentialBroker;
class MemoryStoreService;
class ThreadService;

// The services layer as the backend wires it: the resource services and the event log.
struct Services
{
    EnvironmentService *environments = nullptr;
    FileService *files = nullptr; // stores uploads under <dataDir>/files
    SkillService *skills = nullptr; // stores skills under <dataDir>/skills
    AgentService *agents = nullptr;
    VaultService *vaults = nullptr;
    EventLog *events = nullptr;
    SessionService *sessions = nullptr;
    CredentialBroker *credentials = nullptr; // the secret for a target, from a session's vaults
    MemoryStoreService *memoryStores = nullptr; // memory stores, memories and their versions
    ThreadService *threads = nullptr; // multiagent threads, derived from the event log
};

// Creates every service over the open database and the keychain, in dependency order, each a
// child of `owner`.
Services installServices(Database &db, SecretStore &secrets, const QString &dataDir, QObject *owner);

} // namespace viv
