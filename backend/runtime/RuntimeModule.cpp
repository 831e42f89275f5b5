#include "RuntimeModule.h"

#include "Runtime.h"
#include "services/ServicesModule.h"

namespace viv {

RuntimeManager *installRuntime(const DefaultProviders &providers, const Services &services, QObject *owner)
{
    auto *runtime = new RuntimeManager(providers, *services.sessions, *services.events, *services.credentials, owner);
    runtime->start(); // crash recovery, then queued work resumes
    return runtime;
}

} // namespace viv
