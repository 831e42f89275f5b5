// Raw sandbox templates through a real socket, against real VMs: `templateID` names `base`,
// `code_interpreter` (Debian's pandas, NumPy, Matplotlib and SciPy in a cached package layer)
// or an environment (its packages and its networking); an unknown one is a 400 that lists what
// exists; the API answers at /sandboxes as well as /v1/sandboxes.
#include "ApiHarness.h"
#include "GuestImageWait.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/SandboxManager.h"
#include "sandbox/SandboxTemplates.h"

#include <QJsonArray>
#include <QTest>

using namespace viv;
using namespace viv::test;

class TestSandboxTemplates : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    int listed() { return int(h->get(QStringLiteral("/sandboxes")).json().value(QStringLiteral("data")).toArray().size()); }

    QJsonObject sh(const QString &base, const QString &id, const QString &line)
    {
        return h->post(QStringLiteral("%1/%2/processes").arg(base, id),
                       {{QStringLiteral("cmd"), QStringLiteral("sh")},
                        {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"), line}},
                        {QStringLiteral("timeout"), 120}})
            .json();
    }

    // The layer a template needs, built before the POST (minutes under TCG the first time; the
    // request itself would wait for it, longer than this harness waits for an answer).
    void prebuild(const QJsonObject &config)
    {
        std::optional<Result<QString>> out;
        h->backend->layers()->ensure(config, [&](Result<QString> r) { out = std::move(r); });
        QVERIFY(QTest::qWaitFor([&] { return out.has_value(); }, 25 * 60000));
        QVERIFY2(out->ok(), out->ok() ? "" : qPrintable(out->error().message()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        QVERIFY(h->backend->layers());
        const QString error = waitForGuestImage(h->backend->sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void unknownTemplateListsTheAvailableOnes()
    {
        auto env = h->post(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("listed-env")}});
        QCOMPARE(env.status, 200);
        const QString envId = env.json().value(QStringLiteral("id")).toString();
        for (const QString &base : {QStringLiteral("/sandboxes"), QStringLiteral("/v1/sandboxes")}) {
            auto r = h->post(base, {{QStringLiteral("templateID"), QStringLiteral("nope")}});
            QCOMPARE(r.status, 400);
            const QJsonObject err = r.json().value(QStringLiteral("error")).toObject();
            QCOMPARE(err.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
            const QString msg = err.value(QStringLiteral("message")).toString();
            QVERIFY2(msg.contains(QStringLiteral("`nope`")) && msg.contains(QStringLiteral("`base`"))
                         && msg.contains(QStringLiteral("`code_interpreter`")) && msg.contains(envId),
                     qPrintable(msg));
        }
        // An environment id that does not exist, an archived one, a self-hosted one: 400s.
        QCOMPARE(h->post(QStringLiteral("/sandboxes"), {{QStringLiteral("templateID"), QStringLiteral("env_01missing")}}).status, 400);
        auto selfHosted = h->post(QStringLiteral("/v1/environments"),
                                  {{QStringLiteral("name"), QStringLiteral("worker")},
                                   {QStringLiteral("config"), QJsonObject{{QStringLiteral("type"), QStringLiteral("self_hosted")}}}});
        QCOMPARE(selfHosted.status, 200);
        auto sh = h->post(QStringLiteral("/sandboxes"),
                          {{QStringLiteral("templateID"), selfHosted.json().value(QStringLiteral("id")).toString()}});
        QCOMPARE(sh.status, 400);
        QVERIFY(sh.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
            QStringLiteral("self_hosted")));
        QCOMPARE(h->post(QStringLiteral("/v1/environments/%1/archive").arg(envId), {}).status, 200);
        QCOMPARE(h->post(QStringLiteral("/sandboxes"), {{QStringLiteral("templateID"), envId}}).status, 400);
        QCOMPARE(h->post(QStringLiteral("/sandboxes"), {{QStringLiteral("timeout"), 1e12}}).status, 400);
        QCOMPARE(listed(), 0); // nothing was created
    }

    void barePathServesTheSameApi()
    {
        auto r = h->post(QStringLiteral("/sandboxes"), {});
        QCOMPARE(r.status, 200);
        const QString id = r.json().value(QStringLiteral("sandboxID")).toString();
        QCOMPARE(r.json().value(QStringLiteral("templateID")).toString(), QStringLiteral("base"));
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes/") + id).status, 200);
        QCOMPARE(sh(QStringLiteral("/sandboxes"), id, QStringLiteral("echo bare")).value(QStringLiteral("stdout")).toString(),
                 QStringLiteral("bare\n"));
        // SandBase's field names: `status` beside `state`, `envVars` for `env` (not both).
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("running"));
        QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        auto withEnvVars = h->post(QStringLiteral("/sandboxes/%1/processes").arg(id),
                                   {{QStringLiteral("cmd"), QStringLiteral("sh")},
                                    {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"), QStringLiteral("echo $GREETING")}},
                                    {QStringLiteral("envVars"), QJsonObject{{QStringLiteral("GREETING"), QStringLiteral("hej")}}}});
        QCOMPARE(withEnvVars.json().value(QStringLiteral("stdout")).toString(), QStringLiteral("hej\n"));
        auto both = h->post(QStringLiteral("/sandboxes/%1/processes").arg(id),
                            {{QStringLiteral("cmd"), QStringLiteral("true")},
                             {QStringLiteral("env"), QJsonObject{}},
                             {QStringLiteral("envVars"), QJsonObject{}}});
        QCOMPARE(both.status, 400);
        QCOMPARE(h->post(QStringLiteral("/sandboxes/%1/processes").arg(id),
                         {{QStringLiteral("cmd"), QStringLiteral("true")}, {QStringLiteral("envVars"), 5}})
                     .status,
                 400);
        QCOMPARE(h->request("GET", QStringLiteral("/sandboxes"), {}, {}, false).status, 401); // the same key
        QCOMPARE(h->del(QStringLiteral("/sandboxes/") + id).status, 200);
        QCOMPARE(h->get(QStringLiteral("/sandboxes/") + id).status, 404);
    }

    void codeInterpreterHasTheScientificStack()
    {
        prebuild(SandboxTemplates::codeInterpreterConfig());
        if (QTest::currentTestFailed())
            return;
        auto r = h->post(QStringLiteral("/sandboxes"), {{QStringLiteral("templateID"), QStringLiteral("code_interpreter")}});
        QCOMPARE(r.status, 200);
        const QString id = r.json().value(QStringLiteral("sandboxID")).toString();
        QCOMPARE(r.json().value(QStringLiteral("templateID")).toString(), QStringLiteral("code_interpreter"));
        const QJsonObject out = sh(QStringLiteral("/sandboxes"), id,
                                   QStringLiteral("cd /tmp && python3 -c \""
                                                  "import numpy, pandas, scipy.stats, matplotlib; matplotlib.use('Agg'); "
                                                  "import matplotlib.pyplot as plt; "
                                                  "df = pandas.DataFrame({'x': numpy.arange(4)}); "
                                                  "plt.plot(df.x); plt.savefig('p.png'); "
                                                  "print(int(df.x.sum()), round(float(scipy.stats.norm.cdf(0)), 2))\" && test -s p.png && echo png"));
        QCOMPARE(out.value(QStringLiteral("stdout")).toString(), QStringLiteral("6 0.5\npng\n"));
        QCOMPARE(h->del(QStringLiteral("/sandboxes/") + id).status, 200);
    }

    void environmentTemplateBringsPackagesAndNetworking()
    {
        const QJsonObject config{
            {QStringLiteral("type"), QStringLiteral("cloud")},
            {QStringLiteral("packages"), QJsonObject{{QStringLiteral("apt"), QJsonArray{QStringLiteral("jq")}}}},
            {QStringLiteral("networking"), QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")},
                                                       {QStringLiteral("allowed_hosts"), QJsonArray{}}}},
            // SandBase's shape: the VM gets this size instead of the default 512 MiB.
            {QStringLiteral("resources"), QJsonObject{{QStringLiteral("cpu"), 1}, {QStringLiteral("memory_mb"), 768}}}};
        auto env = h->post(QStringLiteral("/v1/environments"), {{QStringLiteral("name"), QStringLiteral("jq-limited")},
                                                                {QStringLiteral("config"), config}});
        QCOMPARE(env.status, 200);
        const QString envId = env.json().value(QStringLiteral("id")).toString();
        prebuild(env.json().value(QStringLiteral("config")).toObject());
        if (QTest::currentTestFailed())
            return;
        auto r = h->post(QStringLiteral("/v1/sandboxes"), {{QStringLiteral("templateID"), envId}});
        QCOMPARE(r.status, 200);
        const QString id = r.json().value(QStringLiteral("sandboxID")).toString();
        QCOMPARE(r.json().value(QStringLiteral("templateID")).toString(), envId);
        QCOMPARE(r.json().value(QStringLiteral("fromWarmPool")).toBool(), false);
        // The layer's package, and `limited` networking: no NIC but loopback.
        const QJsonObject out = sh(QStringLiteral("/v1/sandboxes"), id,
                                   QStringLiteral("echo '{\"a\":41}' | jq '.a+1'; ls /sys/class/net | tr '\\n' ' '"));
        QCOMPARE(out.value(QStringLiteral("stdout")).toString(), QStringLiteral("42\nlo "));
        // The environment's config.resources sized the VM (the kernel keeps some memory back).
        QCOMPARE(r.json().value(QStringLiteral("memoryMB")).toInt(), 768);
        QCOMPARE(r.json().value(QStringLiteral("cpuCount")).toInt(), 1);
        const int memTotalMiB = sh(QStringLiteral("/v1/sandboxes"), id,
                                   QStringLiteral("awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo"))
                                    .value(QStringLiteral("stdout")).toString().trimmed().toInt();
        qInfo("MemTotal in the guest: %d MiB", memTotalMiB);
        QVERIFY2(memTotalMiB > 600 && memTotalMiB <= 768, qPrintable(QString::number(memTotalMiB)));
        QCOMPARE(h->del(QStringLiteral("/v1/sandboxes/") + id).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestSandboxTemplates)
#include "tst_sandbox_templates.moc"
