#include "AppSettings.h"

#include <QSettings>

#include <memory>

namespace viv {

namespace {
QString &iniLocation()
{
    static QString path;
    return path;
}

std::unique_ptr<QSettings> open()
{
    if (!iniLocation().isEmpty())
        return std::make_unique<QSettings>(iniLocation(), QSettings::IniFormat);
    return std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope, QStringLiteral("vivarium"),
                                       QStringLiteral("vivarium"));
}
} // namespace

void AppSettings::setLocation(const QString &iniPath)
{
    iniLocation() = iniPath;
}

QString AppSettings::location()
{
    return open()->fileName();
}

AppSettings AppSettings::load()
{
    AppSettings s;
    const auto settings = open();
    QSettings &q = *settings;
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
    const auto settings = open();
    QSettings &q = *settings;
    q.setValue(QStringLiteral("providers/anthropic_base_url"), anthropicBaseUrl);
    q.setValue(QStringLiteral("providers/openai_base_url"), openAiBaseUrl);
    // QSettings writes an empty list as "@Invalid()": an empty list is no entry at all.
    if (openAiModels.isEmpty())
        q.remove(QStringLiteral("providers/openai_models"));
    else
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
