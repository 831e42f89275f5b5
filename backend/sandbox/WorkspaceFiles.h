#pragma once

#include <QString>

namespace viv::workspace {

// Every file Vivarium keeps on the host beside a session's workspace disk (the qcow2 that
// SandboxManager::workspaceDisk() names; it outlives the session's VMs). This is the one place
// that spells their names; a new sibling is added here and to removeAll().
//
//   <disk>                       the workspace disk itself
//   <disk>.new                   a workspace disk being made (renamed onto <disk> when complete)
//   <disk>.resources             the resources written into it (sandbox/SessionSandboxSetup)
//   <disk>.memory-<store>.json   a memory store's sync baseline (sandbox/MemoryMountSync)

QString stagingDisk(const QString &disk);
QString resourceRecord(const QString &disk);
// The disk a resource record belongs to (the inverse of resourceRecord()).
QString diskOfResourceRecord(const QString &record);
QString memoryBaseline(const QString &disk, const QString &storeId);

// Removes the disk and every sibling above (deleting a session's workspace). Blocking file
// I/O: call it off the backend thread (SandboxManager runs it on its libvirt worker).
void removeAll(const QString &disk);

} // namespace viv::workspace
