// Sandbox benchmarks (issue "Sandboxes"), against real VMs through SandboxManager:
//   cold boot -> guest agent ready (p50 over the first VM and VIVARIUM_BENCH_BOOTS boots of a
//     manager without VM template or pool)
//   restore from the VM template -> agent ready (the pool's refills)
//   warm-pool claim -> first `true` exec finished (p50 over >= 10 claims, pool refilled between)
//   `true` exec round trip in a ready VM (p50/p99 over >= 200 execs)
//   host memory per VM beyond guest RAM (PSS of the QEMU process minus the resident part of
//     the guest-RAM mapping; the TCG translation cache is shown separately; also the part no
//     other process shares), for a cold-booted VM and for one restored from the template
//   10 concurrent sandboxes each running a command: errors, wall time
// Figures are printed, not asserted; exit status is non-zero only when the benchmark cannot run
// (no libvirt, no image). Uses the sandbox test environment (TCG pinned, shared image cache).
#include "BenchUtil.h"
#include "sandbox/SandboxManager.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <cstdio>

using namespace viv;
using namespace viv::bench;

namespace {

struct MemFigures
{
    qint64 pssKiB = 0;
    qint64 guestResidentKiB = 0; // resident pages of the guest-RAM mapping
    qint64 tcgCacheKiB = 0;      // PSS of anonymous rwx mappings (TCG's translated code)
    qint64 fileKiB = 0;          // PSS of file mappings (QEMU, its libraries, the guest kernel)
    qint64 privateKiB = 0;       // pages no other process shares: what one more VM costs
    bool ok = false;
    double beyondMiB() const { return double(pssKiB - guestResidentKiB) / 1024.0; }
    double privateBeyondMiB() const { return double(privateKiB - guestResidentKiB) / 1024.0; }
};

// The QEMU process whose command line names the domain (libvirt passes -name guest=<domain>).
qint64 qemuPid(const QString &domain)
{
    const QByteArray needle = "guest=" + domain.toUtf8();
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &pid : pids) {
        bool isNum = false;
        const qint64 n = pid.toLongLong(&isNum);
        if (!isNum)
            continue;
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> args = f.readAll().split('\0');
        for (const QByteArray &a : args)
            if (a == needle || a.startsWith(QByteArray(needle + ',')))
                return n;
    }
    return -1;
}

// PSS of the whole process (smaps_rollup), and from smaps: the resident size of the guest-RAM
// mapping (the anonymous mapping of exactly the guest's memory size) and the PSS of anonymous
// rwx mappings (TCG's code buffer).
MemFigures memoryOf(qint64 pid, int guestMiB)
{
    MemFigures m;
    QFile roll(QStringLiteral("/proc/%1/smaps_rollup").arg(pid));
    if (!roll.open(QIODevice::ReadOnly))
        return m;
    static const QRegularExpression pssRe(QStringLiteral("^Pss:\\s+(\\d+) kB"), QRegularExpression::MultilineOption);
    static const QRegularExpression privRe(QStringLiteral("^Private_(?:Clean|Dirty):\\s+(\\d+) kB"), QRegularExpression::MultilineOption);
    const QString rollup = QString::fromLatin1(roll.readAll());
    const auto pm = pssRe.match(rollup);
    if (!pm.hasMatch())
        return m;
    m.pssKiB = pm.captured(1).toLongLong();
    for (auto it = privRe.globalMatch(rollup); it.hasNext();)
        m.privateKiB += it.next().captured(1).toLongLong();
    QFile smaps(QStringLiteral("/proc/%1/smaps").arg(pid));
    if (!smaps.open(QIODevice::ReadOnly))
        return m;
    static const QRegularExpression head(QStringLiteral("^([0-9a-f]+)-([0-9a-f]+) (\\S+) \\S+ \\S+ \\S+\\s*(.*)$"));
    qint64 size = 0;
    QString perms, name;
    for (const QByteArray &raw : smaps.readAll().split('\n')) {
        const QString line = QString::fromLatin1(raw);
        const auto h = head.match(line);
        if (h.hasMatch()) {
            size = h.captured(2).toULongLong(nullptr, 16) - h.captured(1).toULongLong(nullptr, 16);
            perms = h.captured(3);
            name = h.captured(4).trimmed();
            continue;
        }
        if (line.startsWith(QLatin1String("Rss:")) && size == qint64(guestMiB) * 1024 * 1024 && name.isEmpty())
            m.guestResidentKiB += line.section(QLatin1Char(' '), 1, 1, QString::SectionSkipEmpty).toLongLong();
        if (line.startsWith(QLatin1String("Pss:")) && perms.startsWith(QLatin1String("rwx")) && name.isEmpty())
            m.tcgCacheKiB += line.section(QLatin1Char(' '), 1, 1, QString::SectionSkipEmpty).toLongLong();
        if (line.startsWith(QLatin1String("Pss:")) && name.startsWith(QLatin1Char('/')))
            m.fileKiB += line.section(QLatin1Char(' '), 1, 1, QString::SectionSkipEmpty).toLongLong();
    }
    m.ok = m.guestResidentKiB > 0;
    return m;
}

template<typename T>
std::optional<Result<T>> await(std::function<void(Callback<T>)> start, int timeoutMs)
{
    std::optional<Result<T>> out;
    start([&out](Result<T> r) { out = std::move(r); });
    waitFor([&] { return out.has_value(); }, timeoutMs);
    return out;
}

std::optional<Result<SandboxManager::ExecResult>> execSync(SandboxManager &m, const QString &id, const QStringList &argv,
                                                            int timeoutMs = 60000)
{
    SandboxManager::ExecRequest req;
    req.argv = argv;
    return await<SandboxManager::ExecResult>([&](Callback<SandboxManager::ExecResult> cb) { m.exec(id, req, cb); }, timeoutMs);
}

std::optional<Result<SandboxManager::Info>> createSync(SandboxManager &m, int timeoutMs = 300000)
{
    return await<SandboxManager::Info>([&](Callback<SandboxManager::Info> cb) { m.create(QString(), 600, cb); }, timeoutMs);
}

void destroySync(SandboxManager &m, const QString &id)
{
    await<Ok>([&](Callback<Ok> cb) { m.destroy(id, cb); }, 60000);
}

void printMemory(SandboxManager &m, const QString &id, int guestMiB, const char *what)
{
    const qint64 pid = qemuPid(m.domainName(id));
    const MemFigures mem = pid > 0 ? memoryOf(pid, guestMiB) : MemFigures{};
    if (!mem.ok) {
        std::printf("host memory of %s: could not read the QEMU process's smaps (pid %lld)\n", what, pid);
        return;
    }
    const double over = mem.beyondMiB();
    const double tcg = double(mem.tcgCacheKiB) / 1024.0;
    const double file = double(mem.fileKiB) / 1024.0;
    std::printf("host memory of %s, alone: QEMU PSS %.1f MiB, guest RAM resident %.1f MiB -> beyond guest RAM %.1f MiB "
                "= TCG translation cache %.1f + file mappings %.1f (QEMU, libraries, guest kernel: page cache, shared "
                "by all VMs) + other anonymous %.1f; not shared with any other process: %.1f MiB   [target <= 30 MB]\n",
                what, double(mem.pssKiB) / 1024.0, double(mem.guestResidentKiB) / 1024.0, over, tcg, file,
                over - tcg - file, mem.privateBeyondMiB());
    std::fflush(stdout);
}

QString loadAvg()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll()).section(QLatin1Char(' '), 0, 2) : QString();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int claims = qEnvironmentVariableIntValue("VIVARIUM_BENCH_CLAIMS") > 0 ? qEnvironmentVariableIntValue("VIVARIUM_BENCH_CLAIMS") : 10;
    const int execs = qEnvironmentVariableIntValue("VIVARIUM_BENCH_EXECS") > 0 ? qEnvironmentVariableIntValue("VIVARIUM_BENCH_EXECS") : 200;
    const int boots = qEnvironmentVariableIntValue("VIVARIUM_BENCH_BOOTS") > 0 ? qEnvironmentVariableIntValue("VIVARIUM_BENCH_BOOTS") : 6;
    const int concurrent = qEnvironmentVariableIntValue("VIVARIUM_BENCH_CONCURRENT") > 0 ? qEnvironmentVariableIntValue("VIVARIUM_BENCH_CONCURRENT") : 10;

    QTemporaryDir dataDir(QDir::tempPath() + QStringLiteral("/vivarium-bench-sandbox-XXXXXX"));
    if (!dataDir.isValid()) {
        std::fprintf(stderr, "bench_sandbox: cannot create a data directory\n");
        return 1;
    }
    SandboxConfig cfg = SandboxConfig::fromEnvironment(dataDir.path());
    cfg.warmPool = 1;
    SandboxManager m(cfg, SandboxConfig::instanceTag(dataDir.path()));
    m.start();

    std::printf("bench_sandbox: %s (%s), %d MiB / %d vCPU per VM, load %s\n",
                qPrintable(m.acceleration().modeName().toUpper()), qPrintable(m.acceleration().reason()), cfg.memoryMiB,
                cfg.vcpus, qPrintable(loadAvg()));
    std::fflush(stdout);
    {
        bool done = false;
        QString error;
        m.image().ensure([&](const QString &e) {
            error = e;
            done = true;
        });
        waitFor([&] { return done; }, 30 * 60 * 1000);
        if (!done || !error.isEmpty()) {
            std::fprintf(stderr, "bench_sandbox: no guest image: %s\n", qPrintable(done ? error : QStringLiteral("timed out")));
            return 1;
        }
    }

    std::vector<qint64> bootMs, restoreMs, claimNs;
    // 1. The first create: nothing is warm yet, so this is a cold boot; it also starts the pool.
    auto first = createSync(m);
    if (!first || !*first) {
        std::fprintf(stderr, "bench_sandbox: cannot create a sandbox: %s\n",
                     first ? qPrintable((*first).error().message()) : "timed out");
        return 1;
    }
    const QString id = (*first)->id;
    bootMs.push_back((*first)->bootMs);
    // Where the cold boot's time went: the guest's uptime when the agent answered is the part
    // inside the guest kernel and user space; the rest is libvirt, QEMU, firmware and the
    // kernel's decompressor.
    if (auto up = execSync(m, id, {QStringLiteral("cat"), QStringLiteral("/proc/uptime")}); up && *up && (*up)->exitCode == 0) {
        const double guestMs = QString::fromLatin1((*up)->stdoutData).section(QLatin1Char(' '), 0, 0).toDouble() * 1000.0;
        std::printf("cold boot %lld ms: guest uptime at the first exec %.0f ms, so ~%.0f ms before the kernel ran\n",
                    (*first)->bootMs, guestMs, double((*first)->bootMs) - guestMs);
    }

    // 2. Exec round trip of `true` in the ready VM, once the pool's VM has booted (a boot
    // running beside it would take most of the CPU the measurement needs).
    waitFor([&] { return m.warmCount() >= 1; }, 300000);
    std::vector<qint64> rt;
    int execErrors = 0;
    for (int i = 0; i < 10; ++i) // warm the guest's page cache and TCG's translations
        execSync(m, id, {QStringLiteral("true")});
    for (int i = 0; i < execs; ++i) {
        const qint64 t0 = monoNs();
        auto r = execSync(m, id, {QStringLiteral("true")});
        const qint64 t1 = monoNs();
        if (!r || !*r || (*r)->exitCode != 0)
            ++execErrors;
        else
            rt.push_back(t1 - t0);
    }
    std::printf("exec `true` round trip: p50 %.2f ms, p99 %.2f ms over %zu execs (%d errors)   [target p50 <= 10 ms]\n",
                ms(percentile(rt, 0.5)), ms(percentile(rt, 0.99)), rt.size(), execErrors);
    // The channel's share of it: an agent request that starts no process (stat /).
    {
        std::vector<qint64> st;
        for (int i = 0; i < execs; ++i) {
            const qint64 t0 = monoNs();
            auto r = await<QJsonObject>([&](Callback<QJsonObject> cb) {
                m.call(id, QJsonObject{{QStringLiteral("op"), QStringLiteral("stat")}, {QStringLiteral("path"), QStringLiteral("/")}}, cb);
            }, 60000);
            if (r && *r)
                st.push_back(monoNs() - t0);
        }
        std::printf("  of which the channel (agent `stat /` round trip): p50 %.2f ms, p99 %.2f ms over %zu calls\n",
                    ms(percentile(st, 0.5)), ms(percentile(st, 0.99)), st.size());
    }
    std::fflush(stdout);

    // 3. Memory of that VM's QEMU process (the pool's VM, saved as the template meanwhile, is
    // gone by now or soon).
    printMemory(m, id, cfg.memoryMiB, "a cold-booted VM");
    destroySync(m, id);

    // 4. Warm-pool claims: wait until a VM is ready in the pool, claim it, run `true`.
    int claimErrors = 0;
    for (int i = 0; i < claims; ++i) {
        if (!waitFor([&] { return m.warmCount() >= 1; }, 300000)) {
            ++claimErrors;
            continue;
        }
        const qint64 t0 = monoNs();
        auto c = createSync(m);
        if (!c || !*c) {
            ++claimErrors;
            continue;
        }
        auto r = execSync(m, (*c)->id, {QStringLiteral("true")});
        const qint64 t1 = monoNs();
        if (!r || !*r || (*r)->exitCode != 0 || !(*c)->fromWarmPool)
            ++claimErrors;
        else
            claimNs.push_back(t1 - t0);
        ((*c)->fromTemplate ? restoreMs : bootMs).push_back((*c)->bootMs);
        if (i + 1 == claims) {
            // A VM as sessions get them: restored from the template, claimed, used a little.
            for (int k = 0; k < 10; ++k)
                execSync(m, (*c)->id, {QStringLiteral("true")});
            printMemory(m, (*c)->id, cfg.memoryMiB, (*c)->fromTemplate ? "a VM restored from the template" : "a pool VM");
        }
        destroySync(m, (*c)->id);
    }
    std::printf("warm-pool claim -> first `true` exec finished: p50 %.1f ms, max %.1f ms over %zu claims (%d errors)   "
                "[target p50 <= 50 ms]\n",
                ms(percentile(claimNs, 0.5)), ms(percentile(claimNs, 1.0)), claimNs.size(), claimErrors);
    if (!restoreMs.empty())
        std::printf("restore from the VM template -> agent ready (reseeded, clock set): p50 %lld ms, max %lld ms over %zu VMs "
                    "(the pool's refills)\n",
                    qint64(percentile(restoreMs, 0.5)), qint64(percentile(restoreMs, 1.0)), restoreMs.size());
    std::fflush(stdout);

    // 5. Concurrent sandboxes, each running a command (started together; boots queue in the manager).
    {
        const qint64 t0 = monoNs();
        std::vector<QString> ids(concurrent);
        std::vector<QString> errors;
        int created = 0, finished = 0, correct = 0;
        for (int i = 0; i < concurrent; ++i) {
            m.create(QString(), 600, [&, i](Result<SandboxManager::Info> r) {
                ++created;
                if (!r) {
                    errors.push_back(r.error().message());
                    ++finished;
                    return;
                }
                ids[i] = r->id;
                SandboxManager::ExecRequest req;
                req.argv = {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("echo $((%1 * %1)); uname -r >/dev/null").arg(i)};
                m.exec(r->id, req, [&, i](Result<SandboxManager::ExecResult> e) {
                    ++finished;
                    if (!e)
                        errors.push_back(e.error().message());
                    else if (e->exitCode == 0 && e->stdoutData == QByteArray::number(i * i) + '\n')
                        ++correct;
                    else
                        errors.push_back(QStringLiteral("sandbox %1: unexpected output").arg(i));
                });
            });
        }
        waitFor([&] { return finished == concurrent; }, 15 * 60 * 1000);
        const qint64 t1 = monoNs();
        // Memory per VM with all of them running: shared pages are divided among the QEMUs.
        std::vector<qint64> beyond;
        for (const QString &sid : ids) {
            const qint64 p = sid.isEmpty() ? -1 : qemuPid(m.domainName(sid));
            const MemFigures f = p > 0 ? memoryOf(p, cfg.memoryMiB) : MemFigures{};
            if (f.ok)
                beyond.push_back(f.pssKiB - f.guestResidentKiB);
        }
        if (!beyond.empty())
            std::printf("host memory per VM with %zu running: beyond guest RAM p50 %.1f MiB, max %.1f MiB   [target <= 30 MB]\n",
                        beyond.size(), double(percentile(beyond, 0.5)) / 1024.0, double(percentile(beyond, 1.0)) / 1024.0);
        std::printf("%d concurrent sandboxes each running a command: %d correct, %zu errors, %d unfinished; "
                    "all done in %.1f s (load %s)\n",
                    concurrent, correct, errors.size(), concurrent - finished, ms(double(t1 - t0)) / 1000.0, qPrintable(loadAvg()));
        for (const QString &e : errors)
            std::printf("  error: %s\n", qPrintable(e));
        for (const QString &sid : ids)
            if (!sid.isEmpty())
                destroySync(m, sid);
    }
    std::fflush(stdout);

    // 6. Cold boots (sessions whose workspace exists, environments with packages or limited
    // networking still boot): a manager without the template and without a pool, one at a time.
    {
        QTemporaryDir coldDir(QDir::tempPath() + QStringLiteral("/vivarium-bench-cold-XXXXXX"));
        SandboxConfig coldCfg = SandboxConfig::fromEnvironment(coldDir.path());
        coldCfg.warmPool = 0;
        coldCfg.templates = false;
        SandboxManager cold(coldCfg, SandboxConfig::instanceTag(coldDir.path()));
        cold.start();
        for (int i = 0; i < boots; ++i) {
            auto c = createSync(cold);
            if (!c || !*c)
                continue;
            if (!(*c)->fromTemplate)
                bootMs.push_back((*c)->bootMs);
            destroySync(cold, (*c)->id);
        }
    }
    std::printf("cold boot -> agent ready: p50 %lld ms, min %lld ms, max %lld ms over %zu boots   [target <= 2500 ms]\n",
                qint64(percentile(bootMs, 0.5)), qint64(percentile(bootMs, 0.0)), qint64(percentile(bootMs, 1.0)), bootMs.size());
    std::fflush(stdout);
    return 0;
}
