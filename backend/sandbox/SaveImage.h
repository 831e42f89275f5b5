#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace viv::saveimage {

// libvirt's QEMU save image (what virDomainSave writes): a 92-byte header (magic
// "LibvirtQemudSave", version 2, the length of the data that follows, whether the guest was
// running, the compression, where the cookie starts), then the domain XML, NUL, the cookie, zero
// padding (libvirt leaves 64 KiB of room so the XML can be edited in place), then QEMU's
// migration stream. libvirt refuses to restore an image under another name or UUID, so a clone
// of a template VM gets the image with its own XML in that header.
struct Header
{
    QByteArray xml;          // the domain XML
    QByteArray cookie;       // libvirt's migration cookie (kept as is)
    qint64 dataLen = 0;      // bytes between the fixed header and QEMU's stream
    qint64 streamOffset = 0; // where QEMU's stream starts
};

// Reads and checks the header of the save image at `path` (raw, uncompressed, version 2).
Result<Header> readHeader(const QString &path);

// The fixed header and data for `header` with its XML replaced by `xml`, the same size as the
// original (the padding absorbs the difference); an error when `xml` does not fit.
Result<QByteArray> rewrittenHeader(const Header &header, const QByteArray &xml);

// Restores the save image at `path` as the domain described by `xml` without copying it: a
// writer thread feeds the rewritten header and then the image's QEMU stream into a FIFO created
// at `fifoPath`, and `restore(fifoPath)` (LibvirtHost::restoreBlocking) reads it. Blocking; call
// it on the libvirt pool. The FIFO is removed before returning.
Status restoreWithXml(const QString &path, const QByteArray &xml, const QString &fifoPath,
                      const std::function<Status(const QString &)> &restore);

} // namespace viv::saveimage
