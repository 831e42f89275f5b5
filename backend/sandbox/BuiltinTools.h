#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace viv::tools {

// Pure helpers of the built-in toolset (agent_toolset_20260401) that do not need a VM; the
// executor (SandboxToolExecutor) does the I/O. Limits are documented in docs/DESIGN.md
// "Sandboxes → Built-in tools".

inline constexpr qint64 kBashOutputLimit = 100 * 1024;      // bash: last 100 KiB kept
inline constexpr int kBashDefaultTimeoutMs = 120 * 1000;    // bash: timeout_ms when omitted or 0
inline constexpr int kBashMaxTimeoutMs = 60 * 60 * 1000;    // bash: timeout_ms is capped at 1 h
inline constexpr qint64 kReadMaxFileBytes = 8 * 1024 * 1024; // read/edit: larger files are refused
inline constexpr qint64 kReadMaxOutputBytes = 256 * 1024;   // read: selected text returned at most
inline constexpr qint64 kImageMaxBytes = 5 * 1024 * 1024;   // read: images returned as image blocks
inline constexpr qint64 kGrepOutputLimit = 100 * 1024;
inline constexpr int kGrepTimeoutMs = 60 * 1000;
inline constexpr int kGlobResultLimit = 200;
inline constexpr qint64 kFetchMaxBytes = 1024 * 1024;       // web_fetch / web_search body cap
inline constexpr int kFetchTimeoutMs = 30 * 1000;

// A relative path is taken relative to /workspace (the tools' working directory).
QString guestPath(const QString &path);

// `read`: the lines [start, end] (1-based, inclusive; end <= 0 = to the end) numbered like
// `cat -n` ("%6d\t<line>"). An error message instead when the range is invalid.
struct NumberedText
{
    QString text;
    QString error;
};
NumberedText numberLines(const QString &content, int start, int end);

// `edit`: replaces `oldString` in `content`. Error messages for an empty or absent old_string,
// identical strings, and several matches without replaceAll.
struct EditResult
{
    QString content;
    int replacements = 0;
    QString error;
};
EditResult applyEdit(const QString &content, const QString &oldString, const QString &newString, bool replaceAll,
                     const QString &path);

// Decodes UTF-8 text; nullopt for binary content (a NUL byte or invalid UTF-8).
std::optional<QString> decodeText(const QByteArray &bytes);
// The image media type for a path's extension (png, jpeg, gif, webp), or empty.
QString imageMediaType(const QString &path);

// bash: `command` as a bash ANSI-C quoted word ($'…'), so that `eval` runs it in the persistent
// shell whatever it contains (quotes, newlines, an unterminated construct → a syntax error
// reported by eval, never a shell left waiting for more input).
QByteArray ansiCQuote(const QString &command);
// The line written to the shell's stdin for one command. Output of both streams is combined
// (2>&1, in the order the terminal would show it), stdin is /dev/null, the workspace file
// system is synced (so a completed call survives a VM crash), then the sentinel line
// "\n<sentinel>:<exit status>\n" is printed, split in the input so it never appears there.
QByteArray bashWrapper(const QString &command, const QByteArray &nonce);
QByteArray bashSentinel(const QByteArray &nonce);
// Finds the sentinel in `buffer`: the exit status and the output before it.
struct BashDone
{
    QByteArray output;
    int exitCode = -1;
};
std::optional<BashDone> parseBashDone(const QByteArray &buffer, const QByteArray &nonce);
// Keeps the last `limit` bytes of `buffer` (plus room for the sentinel); true when it dropped some.
bool trimHead(QByteArray &buffer, qint64 limit, qint64 &dropped);
QString displayOutput(const QByteArray &output, qint64 dropped);

// HTML → readable text for web_fetch: scripts/styles dropped, tags removed, common entities
// decoded, whitespace collapsed. Crude but dependency-free (backend links no QtGui).
QString htmlToText(const QString &html);

// The networking policy check of web_fetch, the same matching as the sandbox's egress proxy
// (NetworkPolicy::admits on the environment's `allowed_hosts`): everything when networking is
// unrestricted (or absent); when `limited`, only hosts an `allowed_hosts` entry admits (exact,
// case-insensitive; `*.example.com` = subdomains; `name:port` = that port only, so pass the
// URL's effective port). `environment` is the environment document.
bool hostAllowed(const QJsonObject &environment, const QString &host, quint16 port = 0);

} // namespace viv::tools
