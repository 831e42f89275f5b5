#pragma once

#include "core/Result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

namespace viv {

// A sandbox's egress policy, made from an environment's `config.networking`:
//   {"type":"unrestricted"}
//   {"type":"limited","allowed_hosts":[…],"allow_package_managers":b,"allow_mcp_servers":b}
// `limited` sandboxes have no network device at all; their only way out is the host-side
// EgressProxy (reached through the `vivarium.proxy` virtio-serial port), which asks admits().
// docs/DESIGN.md "Sandboxes → Networking" has the whole design.
//
// Host entries (environment `allowed_hosts`, credential `networking.allowed_hosts`):
//   `api.example.com`      exactly that name, any port
//   `api.example.com:8443` that name, that port only
//   `*.example.com`        any subdomain of example.com, not example.com itself (the
//                          credential docs' rule, applied to environments too)
//   `192.0.2.1`, `[2001:db8::1]` (optionally `:port`) an IP literal, matched exactly
// A request naming a raw IP is refused unless that IP is listed exactly: wildcards never
// match IP literals.
struct NetworkPolicy
{
    bool unrestricted = true;
    QStringList allowedHosts;  // as given by the environment
    QStringList registryHosts; // admitted because allow_package_managers (see PackageRegistries)
    QStringList mcpHosts;      // admitted because allow_mcp_servers (the agent's MCP server URLs)
    bool allowPackageManagers = false;
    bool allowMcpServers = false;

    static NetworkPolicy unrestrictedPolicy() { return {}; }
    // `registryHosts`: PackageRegistries::discover(); `mcpServerUrls`: the session's agent's
    // MCP server URLs. Both are used only when the matching flag is set.
    static Result<NetworkPolicy> fromNetworkingJson(const QJsonObject &networking,
                                                    const QStringList &registryHosts = {},
                                                    const QStringList &mcpServerUrls = {});

    // Whether a connection to host:port is allowed. `host` as the client wrote it (a name,
    // an IPv4 literal or an IPv6 literal with or without brackets).
    bool admits(const QString &host, quint16 port) const;

    // One entry against one host (used for credentials' allowed_hosts too).
    static bool entryMatches(const QString &entry, const QString &host, quint16 port);
    static bool isIpLiteral(const QString &host);
    // "host", "host:port", "[v6]", "[v6]:port", bare IPv6; port 0 when none. False: malformed.
    static bool splitHostPort(const QString &in, QString *host, int *port);
    static QString normalizeHost(const QString &host);
};

// Package registry hosts, read at runtime from this machine's own configuration: apt
// sources (sources.list, sources.list.d/*.list, sources.list.d/*.sources) and npm's
// registry (npm_config_registry, ~/.npmrc, the global npmrc, else `npm config get registry`).
// No registry name is built in: a machine that configures none gets none.
struct PackageRegistries
{
    struct Sources
    {
        QString aptDir = QStringLiteral("/etc/apt");
        QStringList npmrcFiles;   // default: ~/.npmrc, $PREFIX/etc/npmrc, /etc/npmrc
        QString npmEnvRegistry;   // default: $npm_config_registry / $NPM_CONFIG_REGISTRY
        bool askNpm = true;       // run `npm config get registry` when nothing else names one
        static Sources system();
    };
    // Blocking (reads files, may run npm for up to 10 s): call it off the event loop, once,
    // and cache the result.
    static QStringList discover(const Sources &sources = Sources::system());
    static QStringList aptHosts(const QString &aptDir);
    static QString npmrcRegistryHost(const QString &npmrcText);
};

// The guest side of the egress path: what a sandbox's processes get and what the VM needs.
namespace SandboxNetwork {

// Where the guest forwarder listens inside the VM (loopback of the guest only).
inline constexpr quint16 kGuestProxyPort = 3128;
inline constexpr const char *kProxyPortName = "vivarium.proxy";

// The `<interface>` and proxy `<channel>` elements of a sandbox's domain XML. Limited: no
// network device at all (nothing can bypass the proxy), only the proxy channel. Unrestricted:
// QEMU user-mode networking plus the proxy channel (so credential placeholders work there
// too for clients that honour HTTP(S)_PROXY). `proxySocket` is the unix socket QEMU binds.
QString devicesXml(bool limited, const QString &proxySocket);

// The Python forwarder started in the guest (as root, detached) once its agent is ready:
// listens on 127.0.0.1:kGuestProxyPort and multiplexes each connection over the
// `vivarium.proxy` virtio-serial port (ProxyChannel is the host end; the frame format is
// documented there).
QByteArray guestForwarderScript();
// argv for the agent's exec op that starts the forwarder detached and returns at once.
QStringList guestForwarderArgv();

// Env vars every process in the sandbox should get: the proxy variables (both cases) and,
// for each environment_variable credential, its name = placeholder (never the secret).
QMap<QString, QString> guestEnvironment(const QMap<QString, QString> &credentialPlaceholders = {});

// A fresh `vivarium-placeholder-<32 hex>` (random, per sandbox and credential).
QString makePlaceholder();

} // namespace SandboxNetwork

} // namespace viv
