#pragma once

#include <QLocalSocket>
#include <QString>

#include <functional>

namespace viv::port {

// The host end of a virtio-serial port is a unix socket QEMU creates. The channels over it
// (GuestChannel: the guest agent; ProxyChannel: the egress proxy) connect, retry until QEMU has
// made it and reconnect when the VM comes back, each attempt on a fresh socket. reopen() is that
// attempt, in one place: the previous socket is deleted later, a new one owned by `owner`
// becomes `current`, each handler given runs only while that socket is still `current` (a
// late signal of a replaced socket is ignored), and it starts connecting to `path`.
struct Handlers
{
    std::function<void()> connected;
    std::function<void()> readyRead;
    std::function<void()> error; // QLocalSocket::errorOccurred
    std::function<void()> disconnected;
    std::function<void(qint64)> bytesWritten = {};
};

QLocalSocket *reopen(QObject *owner, QLocalSocket *&current, const QString &path, Handlers handlers);

} // namespace viv::port
