#include "AppSettings.h"

#include <QSettings>

namespace viv {


AppSettings AppSettings::load()
{
    AppSettings s;
    QSettings q(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("vivarium"),
                QStringLiteral("vivarium"));
    s.anthropicBaseUrl = q.value(QStringLiteral("providers/anthropic_base_url"), s.anthropicBaseUrl).toString();
    s.openAiBaseUrl = q.value(QStringLiteral("providers/openai_base_url"), s.openAiBaseUrl).toString();
    s.openAiModels = q.value(QStringLiteral("providers/openai_models"), s.openAiModels).toStringList();
    s.defaultModel = q.value(QStringLiteral("agents/default_model"), s.defaultModel).toString();
    s.warmPoolSize = q.value(QStringLiteral("sandbox/warm_pool_size"), s.warmPoolSize).toInt();
    s.vmCpus = q.value(QStringLiteral("sandbox/vm_cpus"), s.vmCpus).toInt();
    s.vmMemoryMiB = q.value(QStringLiteral("sandbox/vm_memory_mib"), s.vmMemoryMiB).toInt();
    s.vmDiskGiB = q.value(QStringLiteral("sandbox/vm_disk_gib"), s.vmDiskGiB).toInt();
    s.vmAccel = q.value(QStringLiteral("sandbox/vm_accel"), s.vmAccel).toString();
    s.apiPort = q.value(QStringLiteral("api/port"), s.apiPort).toInt();
    return s;
}

void AppSettings::save() const
{
    QSettings q(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("vivarium"),
                QStringLiteral("vivarium"));
    q.setValue(QStringLiteral("providers/anthropic_base_url"), anthropicBaseUrl);
    q.setValue(QStringLiteral("providers/openai_base_url"), openAiBaseUrl);
    q.setValue(QStringLiteral("providers/openai_models"), openAiModels);
    q.setValue(QStringLiteral("agents/default_model"), defaultModel);
    q.setValue(QStringLiteral("sandbox/warm_pool_size"), warmPoolSize);
    q.setValue(QStringLiteral("sandbox/vm_cpus"), vmCpus);
    q.setValue(QStringLiteral("sandbox/vm_memory_mib"), vmMemoryMiB);
    q.setValue(QStringLiteral("sandbox/vm_disk_gib"), vmDiskGiB);
    q.setValue(QStringLiteral("sandbox/vm_accel"), vmAccel);
    q.setValue(QStringLiteral("api/port"), apiPort);
    q.sync();
}

const QStringList &AppSettings::anthropicModels()
{
    static const QStringList models = {QStringLiteral("claude-opus-4-6"),
                                       QStringLiteral("claude-sonnet-4-6"),
                                       QStringLiteral("claude-haiku-4-5")};
    return models;
}

} // namespace viv
