#include "SandboxToolExecutor.h"
#include "SandboxToolExecutorState.h"

#include "SandboxProgress.h"
#include "SessionSandboxSetup.h"

#include "BuiltinTools.h"
#include "SandboxManager.h"

#include <QFile>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace viv {

using namespace tools;
using namespace sandbox_tools;

namespace {

const char *kGlobScript =
    "import glob,os,stat,sys\n"
    "pat,root=sys.argv[1],sys.argv[2]\n"
    "if not os.path.isdir(root):\n"
    "    sys.stderr.write('glob: %s is not a directory\\n' % root); sys.exit(2)\n"
    "skip={'.git','node_modules'}\n"
    "found=[]\n"
    "seen=0\n"
    "for p in glob.iglob(pat, root_dir=root, recursive=True):\n"
    "    seen+=1\n"
    "    if seen>50000: break\n"
    "    full=os.path.normpath(os.path.join(root,p))\n"
    "    if skip.intersection(full.split('/')): continue\n"
    "    try: st=os.stat(full)\n"
    "    except OSError: continue\n"
    "    if stat.S_ISREG(st.st_mode): found.append((st.st_mtime,full))\n"
    "found.sort(key=lambda t:-t[0])\n"
    "if not found: print('no matches')\n"
    "for m,f in found[:200]: print(f)\n"
    "if len(found)>200: print('[%d more matches not shown; narrow the pattern]' % (len(found)-200))\n";

} // namespace

// ---- guest processes ------------------------------------------------------------------------

namespace {
struct GuestExit
{
    QString error; // the request failed (VM gone, cannot start)
    bool vmGone = false;
    QByteArray out, err;
    std::optional<int> code;
    bool timedOut = false;
    bool truncated = false;
};
} // namespace

// Runs argv in the guest (keep_stdin so the agent answers `started` with the id to kill on cancel).
static void guestExec(SandboxManager &sandboxes, const std::shared_ptr<void> &opKeep,
                      std::function<void(std::function<void()>)> setCancel, const QString &sandboxId,
                      const QStringList &argv, int timeoutMs, qint64 maxOutput,
                      std::function<void(const GuestExit &)> done)
{
    Q_UNUSED(opKeep);
    QJsonObject req{{QStringLiteral("op"), QStringLiteral("exec")},
                    {QStringLiteral("argv"), QJsonArray::fromStringList(argv)},
                    {QStringLiteral("keep_stdin"), true},
                    {QStringLiteral("cwd"), QStringLiteral("/workspace")},
                    {QStringLiteral("timeout_ms"), timeoutMs},
                    {QStringLiteral("max_output"), maxOutput}};
    SandboxManager *sm = &sandboxes;
    sandboxes.request(
        sandboxId, req,
        [sm, sandboxId, setCancel = std::move(setCancel), done = std::move(done)](const QJsonObject &m, bool final) {
            const QString type = m.value(kType).toString();
            if (!final) {
                if (type == u"started") {
                    const qint64 rid = m.value(QStringLiteral("id")).toInteger();
                    setCancel([sm, sandboxId, rid] {
                        sm->request(
                            sandboxId,
                            QJsonObject{{QStringLiteral("op"), QStringLiteral("kill")},
                                        {QStringLiteral("target"), rid},
                                        {QStringLiteral("signal"), 9}},
                            [](const QJsonObject &, bool) {}, true);
                    });
                }
                return;
            }
            GuestExit r;
            if (type != u"exit") {
                r.error = msgText(m);
                r.vmGone = m.value(QStringLiteral("channel_closed")).toBool();
                return done(r);
            }
            r.out = QByteArray::fromBase64(m.value(QStringLiteral("stdout")).toString().toLatin1());
            r.err = QByteArray::fromBase64(m.value(QStringLiteral("stderr")).toString().toLatin1());
            if (m.value(QStringLiteral("code")).isDouble())
                r.code = m.value(QStringLiteral("code")).toInt();
            r.timedOut = m.value(QStringLiteral("timed_out")).toBool();
            r.truncated = m.value(QStringLiteral("truncated")).toBool();
            done(r);
        },
        true);
}

void SandboxToolExecutor::syncThen(const std::shared_ptr<Op> &op, const QString &sandboxId, const QString &path,
                                   std::function<void()> then)
{
    guestExec(
        m_sandboxes, op,
        [op](std::function<void()> c) {
            if (!op->finished)
                op->onCancel = std::move(c);
        },
        sandboxId, {QStringLiteral("sync"), QStringLiteral("-f"), path}, 30000, 4096,
        [this, op, then = std::move(then)](const GuestExit &r) {
            if (op->finished)
                return;
            if (r.vmGone)
                return finish(op, ToolResult::error(QStringLiteral("%1: the sandbox VM went away before the change "
                                                                   "was flushed to disk (%2); it may be lost. The "
                                                                   "next tool call gets a fresh VM with the same "
                                                                   "/workspace.")
                                                        .arg(op->call.name, r.error)));
            then();
        });
}

// ---- file tools -----------------------------------------------------------------------------

void SandboxToolExecutor::runRead(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("read: `file_path` is required")));
    int start = 1, end = 0;
    if (in.contains(QStringLiteral("view_range")) && !in.value(QStringLiteral("view_range")).isNull()) {
        const QJsonArray r = in.value(QStringLiteral("view_range")).toArray();
        if (r.size() != 2 || !r.at(0).isDouble() || !r.at(1).isDouble())
            return finish(op, ToolResult::error(QStringLiteral("read: view_range must be [start_line, end_line] "
                                                               "(1-based, inclusive; end_line 0 or -1 = to the end)")));
        start = r.at(0).toInt();
        end = r.at(1).toInt();
    }
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path, start, end](const QString &sbx) {
        m_sandboxes.call(
            sbx,
            QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                        {QStringLiteral("path"), path},
                        {QStringLiteral("limit"), kReadMaxFileBytes}},
            [this, op, path, start, end](const Result<QJsonObject> &r) {
                if (op->finished)
                    return;
                if (!r)
                    return finish(op, ToolResult::error(QStringLiteral("read: %1").arg(r.error().message())));
                const qint64 size = r->value(QStringLiteral("size")).toInteger();
                const QByteArray data = QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1());
                const QString media = imageMediaType(path);
                if (!media.isEmpty() && size <= kImageMaxBytes && !decodeText(data))
                    return finish(op, {QJsonArray{QJsonObject{{kType, QStringLiteral("image")},
                                                              {QStringLiteral("source"),
                                                               QJsonObject{{kType, QStringLiteral("base64")},
                                                                           {QStringLiteral("media_type"), media},
                                                                           {QStringLiteral("data"),
                                                                            QString::fromLatin1(data.toBase64())}}}}},
                                       false});
                if (size > kReadMaxFileBytes)
                    return finish(
                        op, ToolResult::error(QStringLiteral("read: %1 is %2 bytes; read handles files up to %3 MiB. "
                                                             "Use bash (head, tail, sed -n 'A,Bp') for parts of it.")
                                                  .arg(path)
                                                  .arg(size)
                                                  .arg(kReadMaxFileBytes / (1024 * 1024))));
                const auto content = decodeText(data);
                if (!content)
                    return finish(op, ToolResult::error(QStringLiteral("read: %1 is a binary file (%2 bytes); "
                                                                       "inspect it with bash (file, xxd, od)")
                                                            .arg(path)
                                                            .arg(size)));
                const NumberedText t = numberLines(*content, start, end);
                if (!t.error.isEmpty())
                    return finish(op, ToolResult::error(QStringLiteral("read: %1: %2").arg(path, t.error)));
                if (t.text.toUtf8().size() > kReadMaxOutputBytes)
                    return finish(
                        op, ToolResult::error(QStringLiteral("read: the selected text of %1 is over the %2 KiB limit; "
                                                             "pass view_range to read part of it, e.g. [1, 500]")
                                                  .arg(path)
                                                  .arg(kReadMaxOutputBytes / 1024)));
                finish(op, text(t.text));
            },
            true);
    });
}

void SandboxToolExecutor::runWrite(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("write: `file_path` is required")));
    if (!in.value(QStringLiteral("content")).isString())
        return finish(op, ToolResult::error(QStringLiteral("write: `content` (a string) is required")));
    const QByteArray content = in.value(QStringLiteral("content")).toString().toUtf8();
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path, content](const QString &sbx) {
        m_sandboxes.call(
            sbx,
            QJsonObject{{QStringLiteral("op"), QStringLiteral("write")},
                        {QStringLiteral("path"), path},
                        {QStringLiteral("data"), QString::fromLatin1(b64(content))},
                        {QStringLiteral("mkdirs"), true}},
            [this, op, path, sbx, n = content.size()](const Result<QJsonObject> &r) {
                if (op->finished)
                    return;
                if (!r)
                    return finish(op, ToolResult::error(QStringLiteral("write: %1").arg(r.error().message())));
                syncThen(op, sbx, path, [this, op, path, n] {
                    finish(op, text(QStringLiteral("wrote %1 bytes to %2").arg(n).arg(path)));
                });
            },
            true);
    });
}

void SandboxToolExecutor::runEdit(const std::shared_ptr<Op> &op)
{
    const QJsonObject in = op->call.input;
    const QString filePath = in.value(QStringLiteral("file_path")).toString();
    if (filePath.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("edit: `file_path` is required")));
    if (!in.value(QStringLiteral("old_string")).isString() || !in.value(QStringLiteral("new_string")).isString())
        return finish(op, ToolResult::error(QStringLiteral("edit: `old_string` and `new_string` (strings) are required")));
    const QString path = guestPath(filePath);
    withSandbox(op, [this, op, path](const QString &sbx) {
        m_sandboxes.call(
            sbx,
            QJsonObject{{QStringLiteral("op"), QStringLiteral("read")},
                        {QStringLiteral("path"), path},
                        {QStringLiteral("limit"), kReadMaxFileBytes + 1}},
            [this, op, path, sbx](const Result<QJsonObject> &r) {
                if (op->finished)
                    return;
                if (!r)
                    return finish(op, ToolResult::error(QStringLiteral("edit: %1").arg(r.error().message())));
                const qint64 size = r->value(QStringLiteral("size")).toInteger();
                if (size > kReadMaxFileBytes)
                    return finish(op, ToolResult::error(QStringLiteral("edit: %1 is %2 bytes; edit handles files "
                                                                       "up to %3 MiB")
                                                            .arg(path)
                                                            .arg(size)
                                                            .arg(kReadMaxFileBytes / (1024 * 1024))));
                const auto content =
                    decodeText(QByteArray::fromBase64(r->value(QStringLiteral("data")).toString().toLatin1()));
                if (!content)
                    return finish(op, ToolResult::error(QStringLiteral("edit: %1 is a binary file").arg(path)));
                const QJsonObject input = op->call.input;
                const EditResult e = applyEdit(*content, input.value(QStringLiteral("old_string")).toString(),
                                               input.value(QStringLiteral("new_string")).toString(),
                                               input.value(QStringLiteral("replace_all")).toBool(), path);
                if (!e.error.isEmpty())
                    return finish(op, ToolResult::error(e.error));
                m_sandboxes.call(
                    sbx,
                    QJsonObject{{QStringLiteral("op"), QStringLiteral("write")},
                                {QStringLiteral("path"), path},
                                {QStringLiteral("data"), QString::fromLatin1(b64(e.content.toUtf8()))}},
                    [this, op, path, sbx, n = e.replacements](const Result<QJsonObject> &w) {
                        if (op->finished)
                            return;
                        if (!w)
                            return finish(
                                op, ToolResult::error(
                                        QStringLiteral("edit: writing %1 failed: %2").arg(path, w.error().message())));
                        syncThen(op, sbx, path, [this, op, path, n] {
                            finish(op, text(QStringLiteral("edited %1 (%2 replacement%3)")
                                                .arg(path)
                                                .arg(n)
                                                .arg(n == 1 ? QString() : QStringLiteral("s"))));
                        });
                    },
                    true);
            },
            true);
    });
}

void SandboxToolExecutor::runGlob(const std::shared_ptr<Op> &op)
{
    const QString pattern = op->call.input.value(QStringLiteral("pattern")).toString();
    if (pattern.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("glob: `pattern` is required")));
    const QString root = guestPath(op->call.input.value(QStringLiteral("path")).toString());
    withSandbox(op, [this, op, pattern, root](const QString &sbx) {
        guestExec(
            m_sandboxes, op,
            [op](std::function<void()> c) {
                if (!op->finished)
                    op->onCancel = std::move(c);
            },
            sbx,
            {QStringLiteral("python3"), QStringLiteral("-S"), QStringLiteral("-c"), QString::fromLatin1(kGlobScript),
             pattern, root},
            kGrepTimeoutMs, 1024 * 1024,
            [this, op](const GuestExit &r) {
                if (op->finished)
                    return;
                if (!r.error.isEmpty())
                    return finish(op, ToolResult::error(QStringLiteral("glob: %1").arg(r.error)));
                if (r.timedOut)
                    return finish(op, ToolResult::error(QStringLiteral("glob: timed out after %1 s; narrow the pattern")
                                                            .arg(kGrepTimeoutMs / 1000)));
                if (r.code != 0)
                    return finish(op, ToolResult::error(QString::fromUtf8(r.err).trimmed()));
                finish(op, text(QString::fromUtf8(r.out).trimmed()));
            });
    });
}

void SandboxToolExecutor::runGrep(const std::shared_ptr<Op> &op)
{
    const QString pattern = op->call.input.value(QStringLiteral("pattern")).toString();
    if (pattern.isEmpty())
        return finish(op, ToolResult::error(QStringLiteral("grep: `pattern` is required")));
    const QString root = guestPath(op->call.input.value(QStringLiteral("path")).toString());
    withSandbox(op, [this, op, pattern, root](const QString &sbx) {
        // -P: Perl-compatible regular expressions (closest to what models write); -I skips binaries.
        guestExec(
            m_sandboxes, op,
            [op](std::function<void()> c) {
                if (!op->finished)
                    op->onCancel = std::move(c);
            },
            sbx,
            {QStringLiteral("grep"), QStringLiteral("-rnIP"), QStringLiteral("--exclude-dir=.git"),
             QStringLiteral("--exclude-dir=node_modules"), QStringLiteral("-e"), pattern, QStringLiteral("--"), root},
            kGrepTimeoutMs, kGrepOutputLimit,
            [this, op](const GuestExit &r) {
                if (op->finished)
                    return;
                if (!r.error.isEmpty())
                    return finish(op, ToolResult::error(QStringLiteral("grep: %1").arg(r.error)));
                if (r.timedOut)
                    return finish(op, ToolResult::error(QStringLiteral("grep: timed out after %1 s; narrow the path "
                                                                       "or the pattern")
                                                            .arg(kGrepTimeoutMs / 1000)));
                QString out = QString::fromUtf8(r.out);
                while (out.endsWith(u'\n'))
                    out.chop(1);
                if (r.code == 1 && out.isEmpty())
                    return finish(op, text(QStringLiteral("no matches")));
                if (r.code == 2 && out.isEmpty())
                    return finish(
                        op, ToolResult::error(QStringLiteral("grep: %1").arg(QString::fromUtf8(r.err).trimmed())));
                if (r.truncated)
                    out += QStringLiteral("\n[output truncated at %1 KiB; narrow the path or the pattern]")
                               .arg(kGrepOutputLimit / 1024);
                finish(op, text(out));
            });
    });
}

} // namespace viv
