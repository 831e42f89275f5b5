#include "ServicesModule.h"
#include "ThreadService.h"

#include "AgentService.h"
#include "CredentialBroker.h"
#include "EnvironmentService.h"
#include "EventLog.h"
#include "FileService.h"
#include "MemoryStoreService.h"
#include "SessionService.h"
#include "SkillService.h"
#include "VaultService.h"

namespace viv {

Services installServices(Database &db, SecretStore &secrets, const QString &dataDir, QObject *owner)
{
    Services s;
    s.environments = new EnvironmentService(db, owner);
    s.files = new FileService(db, dataDir + QStringLiteral("/files"), owner);
    s.skills = new SkillService(db, dataDir + QStringLiteral("/skills"), owner);
    s.agents = new AgentService(db, owner);
    s.agents->setSkills(s.skills);
    s.vaults = new VaultService(db, secrets, owner);
    s.events = new EventLog(db, owner);
    s.sessions = new SessionService(db, *s.events, *s.agents, *s.environments, *s.vaults, *s.files, secrets, owner);
    s.sessions->setSkills(s.skills);
    s.credentials = new CredentialBroker(*s.vaults, owner);
    s.memoryStores = new MemoryStoreService(db, owner);
    s.sessions->setMemoryStores(s.memoryStores);
    s.threads = new ThreadService(*s.sessions, *s.events, owner);
    return s;
}

} // namespace viv
