#pragma once

#include "SandboxManager.h"
#include "core/Result.h"

#include <functional>

namespace viv {

class EnvironmentLayers;
class EnvironmentService;

// What a raw sandbox's `templateID` (POST /v1/sandboxes, also /sandboxes) names:
//  - `base` (the default): the Vivarium guest image, from the warm pool;
//  - `code_interpreter`: Python 3 with Debian's pandas, NumPy, Matplotlib and SciPy, in a
//    package layer built once and cached like an environment's;
//  - an environment id (`env_…`): that environment's package layer and networking policy.
// Anything else is a 400 that lists the available templates.
class SandboxTemplates
{
public:
    // `layers` may answer nullptr (sandbox tools off: no package layers in this process).
    SandboxTemplates(EnvironmentService &environments, std::function<EnvironmentLayers *()> layers);

    void resolve(const QString &templateId, Callback<SandboxManager::RawSpec> done) const;

    static constexpr const char *kCodeInterpreter = "code_interpreter";
    // The environment config behind `code_interpreter` (its packages make the layer's hash).
    static QJsonObject codeInterpreterConfig();

private:
    // `vcpus`, `memoryMiB`: an environment's config.resources (0: the default size).
    void onLayer(const QString &templateId, const QJsonObject &config, Callback<SandboxManager::RawSpec> done,
                 int vcpus = 0, int memoryMiB = 0) const;
    QString available() const;

    EnvironmentService &m_environments;
    std::function<EnvironmentLayers *()> m_layers;
};

} // namespace viv
