#pragma once

namespace viv {

// Fault injection for tests only (nothing in the product calls it): every LibvirtHost::listBlocking
// answers `ms` milliseconds after libvirt took its snapshot, as a libvirtd busy with other jobs
// does under load. 0 (the default) turns it off.
void setLibvirtListDelayForTests(int ms);

} // namespace viv
