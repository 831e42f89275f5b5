#include "SandboxConfig.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>

#include <unistd.h>

namespace viv {

namespace {
int envInt(const char *name, int def, int min, int max)
{
    bool ok = false;
    const int v = qEnvironmentVariableIntValue(name, &ok);
    return ok ? qBound(min, v, max) : def;
}

QString findRecipeDir()
{
    const QString fromEnv = qEnvironmentVariable("VIVARIUM_GUEST_RECIPE_DIR");
    // Absolute: the recipe's files are hashed and read relative to it, and a relative path
    // would mean whatever directory the process happens to run in.
    if (!fromEnv.isEmpty())
        return QDir(fromEnv).absolutePath();
    const QString appDir = QCoreApplication::applicationDirPath();
    // The installed recipe next to the binary (the package), then the source tree (a build
    // tree's binary: its own recipe, not an installed package's), then the system one.
    const QStringList candidates = {
        appDir + QStringLiteral("/../share/vivarium/guest"),
#ifdef VIVARIUM_SOURCE_DIR
        QStringLiteral(VIVARIUM_SOURCE_DIR "/resources/guest"),
#endif
        QStringLiteral("/usr/share/vivarium/guest"),
    };
    for (const QString &c : candidates) {
        if (QFileInfo::exists(c + QStringLiteral("/build-image.sh")))
            return QDir(c).canonicalPath();
    }
    return candidates.constLast();
}
} // namespace

SandboxConfig SandboxConfig::fromEnvironment(const QString &dataDir)
{
    SandboxConfig c;
    c.libvirtUri = qEnvironmentVariable("VIVARIUM_LIBVIRT_URI");
    if (c.libvirtUri.isEmpty())
        c.libvirtUri = geteuid() == 0 ? QStringLiteral("qemu:///system") : QStringLiteral("qemu:///session");
    c.imageDir = qEnvironmentVariable("VIVARIUM_IMAGE_DIR");
    if (c.imageDir.isEmpty())
        c.imageDir = dataDir + QStringLiteral("/images");
    // Absolute, always: each VM's root disk is a qcow2 overlay that names this directory's base
    // image as its backing file, and qemu resolves a relative backing path against the
    // overlay's own directory, not ours (a relative VIVARIUM_IMAGE_DIR made every VM fail to
    // start with "Could not open backing image").
    c.imageDir = QDir(c.imageDir).absolutePath();
    c.sandboxDir = dataDir + QStringLiteral("/sandboxes");
    c.recipeDir = findRecipeDir();
    c.accel = qEnvironmentVariable("VIVARIUM_SANDBOX_ACCEL", QStringLiteral("auto")).toLower();
    c.memoryMiB = envInt("VIVARIUM_SANDBOX_MEMORY_MB", 512, 128, 65536);
    c.vcpus = envInt("VIVARIUM_SANDBOX_CPUS", 1, 1, 64);
    c.warmPool = envInt("VIVARIUM_WARM_POOL", 1, 0, 64);
    c.prewarm = qEnvironmentVariable("VIVARIUM_SANDBOX_PREWARM") == QLatin1String("1");
    c.kernelDebug = qEnvironmentVariable("VIVARIUM_SANDBOX_KERNEL_DEBUG") == QLatin1String("1");
    c.templates = qEnvironmentVariable("VIVARIUM_SANDBOX_TEMPLATES") != QLatin1String("0");
    return c;
}

QString SandboxConfig::instanceTag(const QString &dataDir)
{
    const QByteArray path = QDir(dataDir).absolutePath().toUtf8();
    return QString::fromLatin1(QCryptographicHash::hash(path, QCryptographicHash::Sha256).toHex().left(8));
}

} // namespace viv
