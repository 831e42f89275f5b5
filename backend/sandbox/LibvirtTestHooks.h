#pragma once

namespace viv {

// Fault injection for tests only (nothing in the product calls it): every LibvirtHost::listBlocking
// answers `ms` milliseconds after libvirt took its snapshot, as a libvirtd busy with other jobs
// does under load. 0 (the default) turns it off.
void setLibvirtListDelayForTests(int ms);

// Every VM start (boot or clone restore) waits `ms` milliseconds on its libvirt pool thread
// before it makes the VM's files and domain, as a start queued behind a busy libvirtd does.
// 0 (the default) turns it off.
void setSandboxBootDelayForTests(int ms);

} // namespace viv
