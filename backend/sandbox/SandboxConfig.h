#pragma once

#include <QString>

namespace viv {

// Sandbox settings, read from the environment (README "Sandboxes" lists them).
struct SandboxConfig
{
    QString libvirtUri;   // VIVARIUM_LIBVIRT_URI; default qemu:///system as root, else qemu:///session
    QString imageDir;     // VIVARIUM_IMAGE_DIR; default <dataDir>/images (shared cache in tests)
    QString sandboxDir;   // <dataDir>/sandboxes: overlays, workspace disks, channel sockets
    QString recipeDir;    // VIVARIUM_GUEST_RECIPE_DIR; default: installed or source resources/guest
    QString accel;        // VIVARIUM_SANDBOX_ACCEL: auto | kvm | tcg (Acceleration.h decides `auto`)
    int memoryMiB = 512;  // VIVARIUM_SANDBOX_MEMORY_MB
    int vcpus = 1;        // VIVARIUM_SANDBOX_CPUS
    int warmPool = 1;     // VIVARIUM_WARM_POOL: pre-booted VMs kept ready (0 = none)
    bool prewarm = false; // VIVARIUM_SANDBOX_PREWARM=1: build the image and fill the pool at start
    bool kernelDebug = false; // VIVARIUM_SANDBOX_KERNEL_DEBUG=1: verbose, timestamped guest console log
    // VIVARIUM_SANDBOX_TEMPLATES=0 turns it off: fresh VMs (the warm pool's, and a session's
    // first one when none is warm) are restored from a saved, booted template VM instead of
    // booting (SandboxManager, DESIGN.md "VM templates").
    bool templates = true;
    int defaultTimeoutS = 300; // raw API sandboxes live this long unless `timeout` says otherwise
    int pollIntervalMs = 2000; // lifecycle polling fallback

    static SandboxConfig fromEnvironment(const QString &dataDir);
    // A short tag of the data directory: domains are named vivarium-<tag>-<id>, so that one
    // backend's orphan sweep never touches another backend's VMs.
    static QString instanceTag(const QString &dataDir);
};

} // namespace viv
