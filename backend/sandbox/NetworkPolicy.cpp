#include "NetworkPolicy.h"

#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>

namespace viv {

namespace {

QString hostOfUrl(const QString &url)
{
    const QUrl u(url, QUrl::StrictMode);
    if (!u.isValid() || u.host().isEmpty())
        return {};
    return NetworkPolicy::normalizeHost(u.host());
}

} // namespace

bool NetworkPolicy::splitHostPort(const QString &in, QString *host, int *port)
{
    *port = 0;
    if (in.startsWith(u'[')) {
        const qsizetype close = in.indexOf(u']');
        if (close < 0)
            return false;
        *host = in.mid(1, close - 1);
        const QString rest = in.mid(close + 1);
        if (rest.isEmpty())
            return true;
        if (!rest.startsWith(u':'))
            return false;
        bool ok = false;
        *port = rest.mid(1).toInt(&ok);
        return ok && *port > 0 && *port < 65536;
    }
    if (in.count(u':') > 1) { // bare IPv6
        *host = in;
        return true;
    }
    const qsizetype colon = in.indexOf(u':');
    if (colon < 0) {
        *host = in;
        return true;
    }
    *host = in.left(colon);
    bool ok = false;
    *port = in.mid(colon + 1).toInt(&ok);
    return ok && *port > 0 && *port < 65536;
}

QString NetworkPolicy::normalizeHost(const QString &host)
{
    QString h = host.trimmed().toLower();
    if (h.startsWith(u'[') && h.endsWith(u']'))
        h = h.mid(1, h.size() - 2);
    while (h.endsWith(u'.'))
        h.chop(1);
    return h;
}

bool NetworkPolicy::isIpLiteral(const QString &host)
{
    const QString h = normalizeHost(host);
    QHostAddress a;
    if (a.setAddress(h))
        return true;
    // Numeric forms that resolvers accept as IPv4 (2130706433, 0x7f.1, 127.1): a name made
    // only of digits, dots and hex markers is treated as an address, never as a host name.
    static const QRegularExpression numeric(QStringLiteral("^(0x[0-9a-f]+|[0-9]+)(\\.(0x[0-9a-f]+|[0-9]+))*$"));
    return numeric.match(h).hasMatch();
}

bool NetworkPolicy::entryMatches(const QString &entry, const QString &hostIn, quint16 port)
{
    QString eh;
    int eport = 0;
    if (!splitHostPort(entry.trimmed(), &eh, &eport))
        return false;
    if (eport != 0 && eport != port)
        return false;
    eh = normalizeHost(eh);
    const QString host = normalizeHost(hostIn);
    if (host.isEmpty() || eh.isEmpty())
        return false;
    if (isIpLiteral(host)) {
        // Only an exact address entry admits an address: no wildcard, no name.
        QHostAddress a, b;
        return a.setAddress(host) && b.setAddress(eh) && a.isEqual(b, QHostAddress::StrictConversion);
    }
    if (eh.startsWith(QLatin1String("*."))) {
        const QString suffix = eh.mid(1); // ".example.com"
        return host.size() > suffix.size() && host.endsWith(suffix);
    }
    return host == eh;
}

bool NetworkPolicy::admits(const QString &host, quint16 port) const
{
    if (unrestricted)
        return true;
    for (const QString &e : allowedHosts)
        if (entryMatches(e, host, port))
            return true;
    if (allowPackageManagers)
        for (const QString &e : registryHosts)
            if (entryMatches(e, host, port))
                return true;
    if (allowMcpServers)
        for (const QString &e : mcpHosts)
            if (entryMatches(e, host, port))
                return true;
    return false;
}

Result<NetworkPolicy> NetworkPolicy::fromNetworkingJson(const QJsonObject &networking,
                                                        const QStringList &registryHosts,
                                                        const QStringList &mcpServerUrls)
{
    NetworkPolicy p;
    const QString type = networking.value(QStringLiteral("type")).toString(QStringLiteral("unrestricted"));
    if (type == u"unrestricted")
        return p;
    if (type != u"limited")
        return ApiError::invalid(QStringLiteral("`config.networking.type`: unknown network policy `%1`").arg(type.left(64)));
    p.unrestricted = false;
    const QJsonArray hosts = networking.value(QStringLiteral("allowed_hosts")).toArray();
    for (const QJsonValue &v : hosts) {
        QString entry = v.toString().trimmed();
        if (entry.contains(QLatin1String("://"))) {
            // A URL given as a host entry: its host (and explicit port) only.
            const QUrl u(entry);
            entry = u.host().isEmpty() ? QString()
                  : (u.host().contains(u':') ? u'[' + u.host() + u']' : u.host())
                        + (u.port() > 0 ? QStringLiteral(":%1").arg(u.port()) : QString());
        }
        if (!entry.isEmpty())
            p.allowedHosts << entry;
    }
    p.allowPackageManagers = networking.value(QStringLiteral("allow_package_managers")).toBool();
    p.allowMcpServers = networking.value(QStringLiteral("allow_mcp_servers")).toBool();
    if (p.allowPackageManagers)
        p.registryHosts = registryHosts;
    if (p.allowMcpServers)
        for (const QString &url : mcpServerUrls) {
            const QString h = hostOfUrl(url);
            if (!h.isEmpty() && !p.mcpHosts.contains(h))
                p.mcpHosts << h;
        }
    return p;
}

// ---- package registries --------------------------------------------------------------------

PackageRegistries::Sources PackageRegistries::Sources::system()
{
    Sources s;
    const auto env = QProcessEnvironment::systemEnvironment();
    s.npmEnvRegistry = env.value(QStringLiteral("npm_config_registry"), env.value(QStringLiteral("NPM_CONFIG_REGISTRY")));
    s.npmrcFiles << env.value(QStringLiteral("npm_config_userconfig"), QDir::homePath() + QStringLiteral("/.npmrc"));
    const QString prefix = env.value(QStringLiteral("npm_config_prefix"), env.value(QStringLiteral("PREFIX")));
    if (!prefix.isEmpty())
        s.npmrcFiles << prefix + QStringLiteral("/etc/npmrc");
    s.npmrcFiles << QStringLiteral("/usr/etc/npmrc") << QStringLiteral("/etc/npmrc");
    return s;
}

QStringList PackageRegistries::aptHosts(const QString &aptDir)
{
    QStringList files;
    if (QFile::exists(aptDir + QStringLiteral("/sources.list")))
        files << aptDir + QStringLiteral("/sources.list");
    const QDir d(aptDir + QStringLiteral("/sources.list.d"));
    for (const QString &f : d.entryList({QStringLiteral("*.list"), QStringLiteral("*.sources")}, QDir::Files, QDir::Name))
        files << d.filePath(f);
    QStringList hosts;
    auto addUrl = [&hosts](const QString &url) {
        const QString h = hostOfUrl(url);
        if (!h.isEmpty() && !hosts.contains(h))
            hosts << h;
    };
    for (const QString &path : std::as_const(files)) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const bool deb822 = path.endsWith(QLatin1String(".sources"));
        bool enabled = true;
        QStringList uris;
        auto flushStanza = [&] {
            if (enabled)
                for (const QString &u : std::as_const(uris))
                    addUrl(u);
            uris.clear();
            enabled = true;
        };
        const QStringList lines = QString::fromUtf8(f.readAll()).split(u'\n');
        for (QString line : lines) {
            line = line.trimmed();
            if (deb822) {
                if (line.isEmpty()) {
                    flushStanza();
                    continue;
                }
                if (line.startsWith(u'#'))
                    continue;
                const qsizetype colon = line.indexOf(u':');
                if (colon < 0)
                    continue;
                const QString key = line.left(colon).trimmed().toLower();
                const QString value = line.mid(colon + 1).trimmed();
                if (key == u"uris")
                    uris << value.split(u' ', Qt::SkipEmptyParts);
                else if (key == u"enabled")
                    enabled = value.compare(QLatin1String("no"), Qt::CaseInsensitive) != 0;
                continue;
            }
            // One-line style: deb [options] URI suite [components]
            if (line.isEmpty() || line.startsWith(u'#'))
                continue;
            static const QRegularExpression oneLine(QStringLiteral("^deb(-src)?\\s+(\\[[^\\]]*\\]\\s+)?(\\S+)"));
            const auto m = oneLine.match(line);
            if (m.hasMatch())
                addUrl(m.captured(3));
        }
        if (deb822)
            flushStanza();
    }
    return hosts;
}

QString PackageRegistries::npmrcRegistryHost(const QString &text)
{
    const QStringList lines = text.split(u'\n');
    for (const QString &raw : lines) {
        const QString line = raw.trimmed();
        if (line.startsWith(u'#') || line.startsWith(u';'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        if (eq < 0 || line.left(eq).trimmed() != u"registry")
            continue;
        return hostOfUrl(line.mid(eq + 1).trimmed());
    }
    return {};
}

QStringList PackageRegistries::discover(const Sources &sources)
{
    QStringList hosts = aptHosts(sources.aptDir);
    QString npm = hostOfUrl(sources.npmEnvRegistry);
    for (qsizetype i = 0; npm.isEmpty() && i < sources.npmrcFiles.size(); ++i) {
        QFile f(sources.npmrcFiles.at(i));
        if (f.open(QIODevice::ReadOnly))
            npm = npmrcRegistryHost(QString::fromUtf8(f.readAll()));
    }
    if (npm.isEmpty() && sources.askNpm && !QStandardPaths::findExecutable(QStringLiteral("npm")).isEmpty()) {
        QProcess p;
        p.start(QStringLiteral("npm"), {QStringLiteral("config"), QStringLiteral("get"), QStringLiteral("registry")});
        if (p.waitForFinished(10000) && p.exitCode() == 0)
            npm = hostOfUrl(QString::fromUtf8(p.readAllStandardOutput()).trimmed());
        else
            p.kill();
    }
    if (!npm.isEmpty() && !hosts.contains(npm))
        hosts << npm;
    return hosts;
}

// ---- guest side ----------------------------------------------------------------------------

namespace SandboxNetwork {

QString devicesXml(bool limited, const QString &proxySocket)
{
    QString xml;
    if (!limited)
        xml += QStringLiteral("<interface type='user'><model type='virtio'/><rom enabled='no'/></interface>");
    xml += QStringLiteral("<channel type='unix'><source mode='bind' path='%1'/><target type='virtio' name='%2'/></channel>")
               .arg(proxySocket.toHtmlEscaped(), QLatin1String(kProxyPortName));
    return xml;
}

QByteArray guestForwarderScript()
{
    // Frames on the port, both directions: u32 stream id, u8 type, u32 length (big endian),
    // payload. Types: 1 OPEN (guest → host), 2 DATA, 3 CLOSE. Streams are guest connections
    // to 127.0.0.1:3128. When the host end is not connected, reads return EOF: every stream
    // is dropped and the port is polled again. Bounded buffers: a stream is not read while
    // the port's output queue is over 1 MiB.
    return QByteArrayLiteral(R"PY(import os, selectors, socket, struct, sys, time
NAME = "vivarium.proxy"
PORT = 3128
def find_port():
    base = "/sys/class/virtio-ports"
    for _ in range(1000):
        for e in os.listdir(base) if os.path.isdir(base) else []:
            try:
                with open(os.path.join(base, e, "name")) as f:
                    if f.read().strip() == NAME:
                        return "/dev/" + e
            except OSError:
                pass
        time.sleep(0.01)
    sys.exit("vivarium-proxy-forwarder: no virtio port " + NAME)
dev = os.open(find_port(), os.O_RDWR | os.O_NONBLOCK)
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", PORT))
ls.listen(128)
ls.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ, "listen")
conns = {}
out = bytearray()
inb = bytearray()
next_id = 1
HI = 1 << 20
def frame(cid, t, data=b""):
    out.extend(struct.pack(">IBI", cid, t, len(data)))
    out.extend(data)
def drop(cid, notify):
    c = conns.pop(cid, None)
    if c is None:
        return
    try:
        sel.unregister(c[0])
    except (KeyError, ValueError):
        pass
    c[0].close()
    if notify:
        frame(cid, 3)
def update(cid):
    c = conns.get(cid)
    if c is None:
        return
    ev = 0
    if not c[2] and len(out) < HI:
        ev |= selectors.EVENT_READ
    if c[1]:
        ev |= selectors.EVENT_WRITE
    if c[2] and not c[1]:
        drop(cid, False)
        return
    try:
        if ev:
            sel.modify(c[0], ev, cid)
        else:
            sel.unregister(c[0])
    except KeyError:
        if ev:
            sel.register(c[0], ev, cid)
    except ValueError:
        pass
def handle_frames():
    while len(inb) >= 9:
        cid, t, n = struct.unpack(">IBI", bytes(inb[:9]))
        if len(inb) < 9 + n:
            return
        data = bytes(inb[9:9 + n])
        del inb[:9 + n]
        c = conns.get(cid)
        if c is None:
            continue
        if t == 2:
            c[1].extend(data)
        elif t == 3:
            c[2] = True
        update(cid)
sel.register(dev, selectors.EVENT_READ, "dev")
dev_ev = selectors.EVENT_READ
while True:
    evs = sel.select(1.0)
    dev_readable = False
    for key, mask in evs:
        if key.data == "dev":
            dev_readable = bool(mask & selectors.EVENT_READ)
            continue
        if key.data == "listen":
            try:
                s, _ = ls.accept()
            except OSError:
                continue
            s.setblocking(False)
            cid = next_id
            next_id = next_id % 0xFFFFFFF0 + 1
            conns[cid] = [s, bytearray(), False]
            sel.register(s, selectors.EVENT_READ, cid)
            frame(cid, 1)
            continue
        cid = key.data
        c = conns.get(cid)
        if c is None:
            continue
        if mask & selectors.EVENT_WRITE and c[1]:
            try:
                n = c[0].send(c[1])
                del c[1][:n]
            except BlockingIOError:
                pass
            except OSError:
                drop(cid, True)
                continue
        if mask & selectors.EVENT_READ:
            try:
                data = c[0].recv(65536)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                drop(cid, True)
                continue
            if data:
                frame(cid, 2, data)
        update(cid)
    if dev_readable:
        try:
            data = os.read(dev, 65536)
        except BlockingIOError:
            data = None
        if data == b"":
            # The host end is not connected: nothing can be forwarded.
            for cid in list(conns):
                drop(cid, False)
            out.clear()
            inb.clear()
            time.sleep(0.2)
        elif data:
            inb.extend(data)
            handle_frames()
    while out:
        try:
            n = os.write(dev, out)
        except BlockingIOError:
            break
        except OSError:
            out.clear()
            break
        del out[:n]
    want = selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0)
    if want != dev_ev:
        sel.modify(dev, want, "dev")
        dev_ev = want
    for cid in list(conns):
        update(cid)
)PY");
}

QStringList guestForwarderArgv()
{
    return {QStringLiteral("/bin/sh"), QStringLiteral("-c"),
            QStringLiteral("setsid python3 -S -c \"$0\" </dev/null >/dev/null 2>&1 &"),
            QString::fromUtf8(guestForwarderScript())};
}

QMap<QString, QString> guestEnvironment(const QMap<QString, QString> &credentialPlaceholders)
{
    QMap<QString, QString> env = credentialPlaceholders;
    const QString proxy = QStringLiteral("http://127.0.0.1:%1").arg(kGuestProxyPort);
    for (const char *name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"})
        env.insert(QString::fromLatin1(name), proxy);
    env.insert(QStringLiteral("NO_PROXY"), QStringLiteral("localhost,127.0.0.1,::1"));
    env.insert(QStringLiteral("no_proxy"), QStringLiteral("localhost,127.0.0.1,::1"));
    return env;
}

QString makePlaceholder()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QStringLiteral("vivarium-placeholder-")
           + QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(words), sizeof words).toHex());
}

} // namespace SandboxNetwork

} // namespace viv
