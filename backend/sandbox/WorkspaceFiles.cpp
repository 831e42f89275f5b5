#include "WorkspaceFiles.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace viv::workspace {

namespace {
const QLatin1String kStaging(".new");
const QLatin1String kResources(".resources");
const QLatin1String kMemoryPrefix(".memory-");
const QLatin1String kMemorySuffix(".json");
} // namespace

QString stagingDisk(const QString &disk)
{
    return disk + kStaging;
}

QString resourceRecord(const QString &disk)
{
    return disk + kResources;
}

QString diskOfResourceRecord(const QString &record)
{
    return record.endsWith(kResources) ? record.chopped(kResources.size()) : record;
}

QString memoryBaseline(const QString &disk, const QString &storeId)
{
    return disk + kMemoryPrefix + storeId + kMemorySuffix;
}

void removeAll(const QString &disk)
{
    QFile::remove(disk);
    QFile::remove(stagingDisk(disk));
    QFile::remove(resourceRecord(disk));
    // One baseline per memory store the session ever mounted: their ids are not known here.
    const QFileInfo info(disk);
    const QString pattern = info.fileName() + kMemoryPrefix + QLatin1Char('*') + kMemorySuffix;
    QDir dir = info.absoluteDir();
    const QStringList baselines = dir.entryList({pattern}, QDir::Files | QDir::Hidden | QDir::System);
    for (const QString &name : baselines)
        dir.remove(name);
}

} // namespace viv::workspace
