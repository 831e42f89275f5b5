#include "PortSocket.h"

namespace viv::port {

QLocalSocket *reopen(QObject *owner, QLocalSocket *&current, const QString &path, Handlers handlers)
{
    if (current)
        current->deleteLater();
    auto *sock = new QLocalSocket(owner);
    current = sock;
    // `current` is a member of `owner`, and every connection below ends with `owner`.
    QLocalSocket *const *slot = &current;
    auto live = [slot, sock] { return *slot == sock; };
    if (handlers.connected)
        QObject::connect(sock, &QLocalSocket::connected, owner, [live, f = std::move(handlers.connected)] {
            if (live())
                f();
        });
    if (handlers.readyRead)
        QObject::connect(sock, &QLocalSocket::readyRead, owner, [live, f = std::move(handlers.readyRead)] {
            if (live())
                f();
        });
    if (handlers.error)
        QObject::connect(sock, &QLocalSocket::errorOccurred, owner,
                         [live, f = std::move(handlers.error)](QLocalSocket::LocalSocketError) {
            if (live())
                f();
        });
    if (handlers.bytesWritten)
        QObject::connect(sock, &QLocalSocket::bytesWritten, owner, [live, f = std::move(handlers.bytesWritten)](qint64 n) {
            if (live())
                f(n);
        });
    if (handlers.disconnected)
        QObject::connect(sock, &QLocalSocket::disconnected, owner, [live, f = std::move(handlers.disconnected)] {
            if (live())
                f();
        });
    sock->connectToServer(path);
    return sock;
}

} // namespace viv::port
