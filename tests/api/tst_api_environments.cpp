// /v1/environments through the real HTTP API: create (defaults, full cloud config,
// self_hosted), retrieve, list (pagination, include_archived), update (fields, metadata patch,
// config merge as the SDK documents it), archive, delete (refused while live sessions use the
// environment), 401 / 404 on every endpoint, and the 400 paths — each proven to write nothing.
// Wire shape: BetaEnvironment & co. in tests/sdk/node_modules/@anthropic-ai/sdk/resources/beta/
// environments/environments.d.ts.

#include "ApiHarness.h"

#include "core/Ids.h"

#include <QDateTime>
#include <QSet>
#include <QTest>
#include <QUrlQuery>

using namespace viv;
using namespace viv::test;
using namespace Qt::StringLiterals;

namespace {

// JSON text with ' for " (readable bodies, and no raw strings: moc mis-scans some).
QByteArray j(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

QString errorMessage(const HttpResult &r)
{
    return r.json().value(u"error"_s).toObject().value(u"message"_s).toString();
}

QStringList sortedKeys(const QJsonObject &o)
{
    QStringList k = o.keys();
    k.sort();
    return k;
}

// The stored shape of `packages` with the given lists and every other manager empty.
QJsonObject packages(const QJsonObject &given = {})
{
    QJsonObject p{{u"type"_s, u"packages"_s}};
    for (const QString &m : {u"apt"_s, u"cargo"_s, u"gem"_s, u"go"_s, u"npm"_s, u"pip"_s})
        p.insert(m, given.value(m).isArray() ? given.value(m) : QJsonValue(QJsonArray{}));
    return p;
}

QJsonObject unrestricted()
{
    return QJsonObject{{u"type"_s, u"unrestricted"_s}};
}

QJsonObject limited(const QJsonArray &hosts, bool mcp, bool pkg)
{
    return QJsonObject{{u"type"_s, u"limited"_s},
                       {u"allowed_hosts"_s, hosts},
                       {u"allow_mcp_servers"_s, mcp},
                       {u"allow_package_managers"_s, pkg}};
}

bool isTimestamp(const QJsonValue &v)
{
    return v.isString() && QDateTime::fromString(v.toString(), Qt::ISODateWithMs).isValid();
}

const QString kMissing = u"env_01doesnotexist0000000000"_s;

} // namespace

class TestApiEnvironments : public QObject
{
    Q_OBJECT
    std::unique_ptr<ApiHarness> h;

    QJsonObject create(const QJsonObject &body)
    {
        return h->create(u"/v1/environments"_s, body);
    }
    QString createId(const QString &name, const QJsonObject &config = {})
    {
        QJsonObject body{{u"name"_s, name}};
        if (!config.isEmpty())
            body.insert(u"config"_s, config);
        return create(body).value(u"id"_s).toString();
    }
    QJsonObject retrieve(const QString &id) { return h->get(u"/v1/environments/"_s + id).json(); }
    // Everything the API can show, archived included: the "nothing was written" witness.
    QByteArray everything() { return h->get(u"/v1/environments?limit=100&include_archived=true"_s).body; }
    QStringList listIds(const QString &query)
    {
        QStringList ids;
        for (const QJsonValue &v : h->get(u"/v1/environments?"_s + query).json().value(u"data"_s).toArray())
            ids << v.toObject().value(u"id"_s).toString();
        return ids;
    }
    static QString path(const QString &id) { return u"/v1/environments/"_s + id; }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend->port() > 0);
    }

    // ---- create ------------------------------------------------------------------------------

    void createWithoutConfigFillsDefaults()
    {
        auto r = h->post(u"/v1/environments"_s, {{u"name"_s, u"plain"_s}});
        QCOMPARE(r.status, 200);
        const QJsonObject env = r.json();
        QCOMPARE(sortedKeys(env), (QStringList{u"archived_at"_s, u"config"_s, u"created_at"_s,
                                               u"description"_s, u"id"_s, u"metadata"_s, u"name"_s,
                                               u"type"_s, u"updated_at"_s}));
        QVERIFY2(ids::looksLike(u"env", env.value(u"id"_s).toString()), qPrintable(env.value(u"id"_s).toString()));
        QCOMPARE(env.value(u"type"_s).toString(), u"environment"_s);
        QCOMPARE(env.value(u"name"_s).toString(), u"plain"_s);
        QVERIFY(env.value(u"description"_s).isNull());
        QVERIFY(env.value(u"archived_at"_s).isNull());
        QVERIFY(env.value(u"metadata"_s).isObject());
        QVERIFY(env.value(u"metadata"_s).toObject().isEmpty());
        QVERIFY(isTimestamp(env.value(u"created_at"_s)));
        QCOMPARE(env.value(u"updated_at"_s), env.value(u"created_at"_s));
        // The exact stored config: every package manager present with an empty list.
        QCOMPARE(env.value(u"config"_s).toObject(),
                 (QJsonObject{{u"type"_s, u"cloud"_s}, {u"networking"_s, unrestricted()}, {u"packages"_s, packages()}}));
        QCOMPARE(r.body.count("\"packages\":{"), 1);

        // What create returned is what retrieve returns, byte-for-byte in JSON terms.
        auto g = h->get(path(env.value(u"id"_s).toString()));
        QCOMPARE(g.status, 200);
        QCOMPARE(g.json(), env);

        // `config: null` is the same as no config; a description, metadata and scope round-trip.
        const QJsonObject b = create({{u"name"_s, u"with-fields"_s},
                                      {u"config"_s, QJsonValue::Null},
                                      {u"description"_s, u"for notebooks"_s},
                                      {u"metadata"_s, QJsonObject{{u"team"_s, u"data"_s}}},
                                      {u"scope"_s, u"organization"_s}});
        QCOMPARE(b.value(u"config"_s).toObject(), env.value(u"config"_s).toObject());
        QCOMPARE(b.value(u"description"_s).toString(), u"for notebooks"_s);
        QCOMPARE(b.value(u"metadata"_s).toObject(), (QJsonObject{{u"team"_s, u"data"_s}}));
        QCOMPARE(b.value(u"scope"_s).toString(), u"organization"_s);
        QVERIFY(b.value(u"id"_s).toString() != env.value(u"id"_s).toString());
        // Description null on create reads as null; empty string is kept.
        QVERIFY(create({{u"name"_s, u"n"_s}, {u"description"_s, QJsonValue::Null}}).value(u"description"_s).isNull());
        const QJsonValue empty = create({{u"name"_s, u"e"_s}, {u"description"_s, u""_s}}).value(u"description"_s);
        QVERIFY(empty.isString());
        QCOMPARE(empty.toString(), QString());
    }

    void createFullCloudConfigRoundTrips()
    {
        const QJsonObject config{
            {u"type"_s, u"cloud"_s},
            {u"networking"_s, limited(QJsonArray{u"api.example.com"_s, u"*.pypi.org"_s, u"db.internal:5432"_s, u"[::1]:8080"_s},
                                      true, true)},
            {u"packages"_s, QJsonObject{{u"type"_s, u"packages"_s},
                                        {u"pip"_s, QJsonArray{u"pandas==2.2.2"_s, u"numpy>=1.26,<2"_s, u"scikit-learn"_s}},
                                        {u"apt"_s, QJsonArray{u"ffmpeg"_s, u"libpq-dev=15.*"_s}},
                                        {u"npm"_s, QJsonArray{u"@anthropic-ai/sdk@^0.40"_s, u"typescript"_s}},
                                        {u"cargo"_s, QJsonArray{u"ripgrep"_s}},
                                        {u"gem"_s, QJsonArray{u"rake"_s}},
                                        {u"go"_s, QJsonArray{u"golang.org/x/tools/gopls@latest"_s}}}},
            {u"base_template"_s, u"debian-12-python"_s}};
        auto r = h->post(u"/v1/environments"_s, {{u"name"_s, u"full"_s}, {u"config"_s, config}});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(u"config"_s).toObject(), config); // exactly as sent
        QCOMPARE(retrieve(r.json().value(u"id"_s).toString()), r.json());

        // Partial params are completed: limited without its fields gets [] / false / false;
        // packages without `type` or with some managers only get the rest as [].
        const QJsonObject partial = create(
            {{u"name"_s, u"partial"_s},
             {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s},
                                       {u"networking"_s, QJsonObject{{u"type"_s, u"limited"_s}}},
                                       {u"packages"_s, QJsonObject{{u"pip"_s, QJsonArray{u"requests"_s}}}}}}});
        QCOMPARE(partial.value(u"config"_s).toObject(),
                 (QJsonObject{{u"type"_s, u"cloud"_s},
                              {u"networking"_s, limited({}, false, false)},
                              {u"packages"_s, packages({{u"pip"_s, QJsonArray{u"requests"_s}}})}}));
        // Null members mean "default" too.
        const QJsonObject nulls = create(
            {{u"name"_s, u"nulls"_s},
             {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s},
                                       {u"networking"_s, QJsonObject{{u"type"_s, u"limited"_s},
                                                                     {u"allowed_hosts"_s, QJsonValue::Null},
                                                                     {u"allow_mcp_servers"_s, QJsonValue::Null}}},
                                       {u"packages"_s, QJsonValue::Null}}}});
        QCOMPARE(nulls.value(u"config"_s).toObject(),
                 (QJsonObject{{u"type"_s, u"cloud"_s}, {u"networking"_s, limited({}, false, false)}, {u"packages"_s, packages()}}));
    }

    void selfHostedConfig()
    {
        const QJsonObject env = create({{u"name"_s, u"sh"_s}, {u"config"_s, QJsonObject{{u"type"_s, u"self_hosted"_s}}}});
        QCOMPARE(env.value(u"config"_s).toObject(), (QJsonObject{{u"type"_s, u"self_hosted"_s}}));
        const QString id = env.value(u"id"_s).toString();
        QCOMPARE(retrieve(id), env);

        // Nothing else is allowed next to `type` in a self_hosted config.
        const QByteArray before = everything();
        for (const QJsonObject &extra : {QJsonObject{{u"networking"_s, unrestricted()}},
                                         QJsonObject{{u"packages"_s, packages()}},
                                         QJsonObject{{u"base_template"_s, u"x"_s}},
                                         QJsonObject{{u"bogus"_s, 1}}}) {
            QJsonObject config{{u"type"_s, u"self_hosted"_s}};
            for (auto it = extra.begin(); it != extra.end(); ++it)
                config.insert(it.key(), it.value());
            auto r = h->post(u"/v1/environments"_s, {{u"name"_s, u"sh2"_s}, {u"config"_s, config}});
            QCOMPARE(r.status, 400);
            QCOMPARE(r.errorType(), u"invalid_request_error"_s);
            QVERIFY2(errorMessage(r).contains(u"config."_s), qPrintable(errorMessage(r)));
        }
        QCOMPARE(everything(), before);

        // config.type cannot change after creation, in either direction.
        auto toCloud = h->post(path(id), {{u"name"_s, u"renamed"_s}, {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}}}});
        QCOMPARE(toCloud.status, 400);
        QVERIFY2(errorMessage(toCloud).contains(u"invalid_config_type_change"_s), qPrintable(errorMessage(toCloud)));
        QCOMPARE(retrieve(id), env);
        const QString cloud = createId(u"cloud"_s);
        const QJsonObject cloudEnv = retrieve(cloud);
        auto toSelf = h->post(path(cloud), {{u"config"_s, QJsonObject{{u"type"_s, u"self_hosted"_s}}}});
        QCOMPARE(toSelf.status, 400);
        QVERIFY(errorMessage(toSelf).contains(u"invalid_config_type_change"_s));
        QCOMPARE(retrieve(cloud), cloudEnv);

        // The same type is fine.
        auto same = h->post(path(id), {{u"config"_s, QJsonObject{{u"type"_s, u"self_hosted"_s}}}});
        QCOMPARE(same.status, 200);
        QCOMPARE(same.json().value(u"config"_s).toObject(), (QJsonObject{{u"type"_s, u"self_hosted"_s}}));
    }

    // ---- list --------------------------------------------------------------------------------

    void listPaginatesAndHidesArchived()
    {
        QStringList made;
        for (int i = 0; i < 5; ++i)
            made << createId(u"page-%1"_s.arg(i));
        const int total = h->rowCount(u"environments"_s);

        QStringList seen;
        QString page;
        int pages = 0;
        do {
            QUrlQuery q;
            q.addQueryItem(u"limit"_s, u"2"_s);
            if (!page.isEmpty())
                q.addQueryItem(u"page"_s, page);
            auto r = h->get(u"/v1/environments?"_s + q.toString(QUrl::FullyEncoded));
            QCOMPARE(r.status, 200);
            QCOMPARE(sortedKeys(r.json()), (QStringList{u"data"_s, u"next_page"_s}));
            const QJsonArray data = r.json().value(u"data"_s).toArray();
            QVERIFY(data.size() <= 2);
            QVERIFY(!data.isEmpty());
            for (const QJsonValue &v : data) {
                QCOMPARE(v.toObject().value(u"type"_s).toString(), u"environment"_s);
                seen << v.toObject().value(u"id"_s).toString();
            }
            const QJsonValue next = r.json().value(u"next_page"_s);
            QVERIFY(next.isNull() || next.isString());
            page = next.toString();
            ++pages;
        } while (!page.isEmpty() && pages < 100);
        QCOMPARE(seen.size(), total); // nothing archived yet: every row, once
        QCOMPARE(QSet<QString>(seen.begin(), seen.end()).size(), seen.size());
        QCOMPARE(pages, (total + 1) / 2);
        // Newest first.
        QCOMPARE(seen.first(), made.last());
        QVERIFY(seen.indexOf(made.at(3)) < seen.indexOf(made.at(1)));

        // A listed item is the full resource.
        const QJsonArray one = h->get(u"/v1/environments?limit=1"_s).json().value(u"data"_s).toArray();
        QCOMPARE(one.size(), 1);
        QCOMPARE(one.first().toObject(), retrieve(made.last()));

        // Archived: hidden by default and with include_archived=false, shown with =true.
        QCOMPARE(h->post(path(made.at(2)) + u"/archive"_s, {}).status, 200);
        QVERIFY(!listIds(u"limit=100"_s).contains(made.at(2)));
        QVERIFY(!listIds(u"limit=100&include_archived=false"_s).contains(made.at(2)));
        QVERIFY(listIds(u"limit=100"_s).contains(made.at(1)));
        const QStringList all = listIds(u"limit=100&include_archived=true"_s);
        QVERIFY(all.contains(made.at(2)));
        QCOMPARE(all.size(), total);
        QCOMPARE(listIds(u"limit=100"_s).size(), total - 1);

        for (const QString &bad : {u"limit=0"_s, u"limit=101"_s, u"limit=x"_s, u"include_archived=maybe"_s,
                                   u"page=not-a-cursor"_s}) {
            auto r = h->get(u"/v1/environments?"_s + bad);
            QVERIFY2(r.status == 400, qPrintable(bad));
            QCOMPARE(r.errorType(), u"invalid_request_error"_s);
            QVERIFY(!errorMessage(r).isEmpty());
        }
    }

    // ---- update ------------------------------------------------------------------------------

    void updateFieldsAndMetadata()
    {
        const QJsonObject env = create({{u"name"_s, u"upd"_s},
                                        {u"description"_s, u"first"_s},
                                        {u"metadata"_s, QJsonObject{{u"a"_s, u"1"_s}, {u"b"_s, u"2"_s}, {u"c"_s, u"3"_s}}}});
        const QString id = env.value(u"id"_s).toString();
        QTest::qWait(5);
        auto u = h->post(path(id), {{u"name"_s, u"upd-2"_s},
                                    {u"description"_s, u"second"_s},
                                    {u"metadata"_s, QJsonObject{{u"a"_s, QJsonValue::Null}, // delete
                                                                {u"b"_s, u""_s},            // delete too
                                                                {u"c"_s, u"three"_s},       // change
                                                                {u"d"_s, u"4"_s}}}});       // add
        QCOMPARE(u.status, 200);
        const QJsonObject v = u.json();
        QCOMPARE(v.value(u"id"_s).toString(), id);
        QCOMPARE(v.value(u"name"_s).toString(), u"upd-2"_s);
        QCOMPARE(v.value(u"description"_s).toString(), u"second"_s);
        QCOMPARE(v.value(u"metadata"_s).toObject(), (QJsonObject{{u"c"_s, u"three"_s}, {u"d"_s, u"4"_s}}));
        QCOMPARE(v.value(u"created_at"_s), env.value(u"created_at"_s));
        QVERIFY(v.value(u"updated_at"_s).toString() > env.value(u"updated_at"_s).toString());
        QCOMPARE(v.value(u"config"_s), env.value(u"config"_s)); // untouched
        QCOMPARE(retrieve(id), v);

        // Description: omit preserves, "" is stored as "", null clears.
        auto keep = h->post(path(id), {{u"name"_s, u"upd-3"_s}});
        QCOMPARE(keep.json().value(u"description"_s).toString(), u"second"_s);
        auto emptyDesc = h->post(path(id), {{u"description"_s, u""_s}});
        QCOMPARE(emptyDesc.status, 200);
        QVERIFY(emptyDesc.json().value(u"description"_s).isString());
        QCOMPARE(emptyDesc.json().value(u"description"_s).toString(), QString());
        auto nullDesc = h->post(path(id), {{u"description"_s, QJsonValue::Null}});
        QVERIFY(nullDesc.json().value(u"description"_s).isNull());

        // Null name and null config change nothing; an empty body is accepted.
        auto nulls = h->post(path(id), {{u"name"_s, QJsonValue::Null}, {u"config"_s, QJsonValue::Null}});
        QCOMPARE(nulls.status, 200);
        QCOMPARE(nulls.json().value(u"name"_s).toString(), u"upd-3"_s);
        QCOMPARE(nulls.json().value(u"config"_s), env.value(u"config"_s));
        auto empty = h->postRaw(path(id), "{}");
        QCOMPARE(empty.status, 200);
        QCOMPARE(empty.json().value(u"name"_s).toString(), u"upd-3"_s);
        QCOMPARE(empty.json().value(u"metadata"_s).toObject(), (QJsonObject{{u"c"_s, u"three"_s}, {u"d"_s, u"4"_s}}));

        // Metadata may not grow past 16 pairs through patches either.
        QJsonObject many;
        for (int i = 0; i < 15; ++i)
            many.insert(u"k%1"_s.arg(i), u"v"_s);
        const QJsonObject before = retrieve(id);
        auto tooMany = h->post(path(id), {{u"metadata"_s, many}});
        QCOMPARE(tooMany.status, 400);
        QVERIFY(!errorMessage(tooMany).isEmpty());
        QCOMPARE(retrieve(id), before);
    }

    void updateConfigKeepsWhatIsOmitted()
    {
        const QJsonObject pkgs{{u"pip"_s, QJsonArray{u"pandas"_s}}, {u"apt"_s, QJsonArray{u"git"_s}}};
        const QJsonObject env = create(
            {{u"name"_s, u"merge"_s},
             {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s},
                                       {u"networking"_s, limited(QJsonArray{u"api.example.com"_s}, true, true)},
                                       {u"packages"_s, pkgs},
                                       {u"base_template"_s, u"tmpl-a"_s}}}});
        const QString id = env.value(u"id"_s).toString();
        const QJsonObject base = env.value(u"config"_s).toObject();
        QCOMPARE(base.value(u"packages"_s).toObject(), packages(pkgs));

        // Only `type`: networking and packages keep their values.
        auto typeOnly = h->post(path(id), {{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-a"_s}}}});
        QCOMPARE(typeOnly.status, 200);
        QCOMPARE(typeOnly.json().value(u"config"_s).toObject(), base);

        // A partial limited networking keeps the omitted (and null) fields.
        auto hosts = h->post(path(id), {{u"config"_s, QJsonObject{
            {u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-a"_s},
            {u"networking"_s, QJsonObject{{u"type"_s, u"limited"_s},
                                          {u"allowed_hosts"_s, QJsonArray{u"b.example.com"_s}},
                                          {u"allow_mcp_servers"_s, QJsonValue::Null}}}}}});
        QCOMPARE(hosts.status, 200);
        QJsonObject expected = base;
        expected.insert(u"networking"_s, limited(QJsonArray{u"b.example.com"_s}, true, true));
        QCOMPARE(hosts.json().value(u"config"_s).toObject(), expected);
        auto flags = h->post(path(id), {{u"config"_s, QJsonObject{
            {u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-a"_s},
            {u"networking"_s, QJsonObject{{u"type"_s, u"limited"_s}, {u"allow_package_managers"_s, false}}}}}});
        QCOMPARE(flags.status, 200);
        expected.insert(u"networking"_s, limited(QJsonArray{u"b.example.com"_s}, true, false));
        QCOMPARE(flags.json().value(u"config"_s).toObject(), expected);

        // Networking only: packages survive (an update of one part never wipes the other).
        auto net = h->post(path(id), {{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-a"_s},
                                                                {u"networking"_s, unrestricted()}}}});
        QCOMPARE(net.status, 200);
        expected.insert(u"networking"_s, unrestricted());
        QCOMPARE(net.json().value(u"config"_s).toObject(), expected);
        // Back to limited from unrestricted: nothing to keep, so the creation defaults.
        auto relimit = h->post(path(id), {{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-a"_s},
                                                                    {u"networking"_s, QJsonObject{{u"type"_s, u"limited"_s}}}}}});
        expected.insert(u"networking"_s, limited({}, false, false));
        QCOMPARE(relimit.json().value(u"config"_s).toObject(), expected);

        // Packages given: a full replacement of the package lists; networking kept.
        auto pk = h->post(path(id), {{u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s}, {u"base_template"_s, u"tmpl-b"_s},
                                                               {u"packages"_s, QJsonObject{{u"npm"_s, QJsonArray{u"left-pad"_s}}}}}}});
        QCOMPARE(pk.status, 200);
        expected.insert(u"packages"_s, packages({{u"npm"_s, QJsonArray{u"left-pad"_s}}}));
        expected.insert(u"base_template"_s, u"tmpl-b"_s);
        QCOMPARE(pk.json().value(u"config"_s).toObject(), expected);
        QCOMPARE(retrieve(id).value(u"config"_s).toObject(), expected);
    }

    // ---- archive / delete --------------------------------------------------------------------

    void archiveIsIdempotentAndFreezes()
    {
        const QString id = createId(u"to-archive"_s);
        QTest::qWait(5);
        auto a = h->post(path(id) + u"/archive"_s, {});
        QCOMPARE(a.status, 200);
        const QJsonObject archived = a.json();
        QVERIFY(isTimestamp(archived.value(u"archived_at"_s)));
        QCOMPARE(archived.value(u"updated_at"_s), archived.value(u"archived_at"_s));
        QCOMPARE(archived.value(u"type"_s).toString(), u"environment"_s);
        QCOMPARE(retrieve(id), archived);

        QTest::qWait(5);
        auto again = h->postRaw(path(id) + u"/archive"_s, QByteArray());
        QCOMPARE(again.status, 200);
        QCOMPARE(again.json(), archived); // idempotent: same stamp, nothing rewritten

        // Archived environments are read-only: a 400 (the SDK's BetaEnvironmentArchivedError
        // is a BadRequestError) that changes nothing.
        auto upd = h->post(path(id), {{u"name"_s, u"x"_s}});
        QCOMPARE(upd.status, 400);
        QCOMPARE(upd.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(upd).contains(u"environment_archived"_s), qPrintable(errorMessage(upd)));
        QCOMPARE(h->post(path(id), {}).status, 400);
        QCOMPARE(retrieve(id), archived);

        // …but can still be deleted.
        auto d = h->del(path(id));
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{u"id"_s, id}, {u"type"_s, u"environment_deleted"_s}}));
    }

    void deleteIsRefusedWhileSessionsUseIt()
    {
        const QString env = createId(u"busy"_s);
        auto agent = h->post(u"/v1/agents"_s, {{u"name"_s, u"a"_s}, {u"model"_s, u"claude-sonnet-4-5"_s}});
        QCOMPARE(agent.status, 200);
        const QString agentId = agent.json().value(u"id"_s).toString();
        QStringList sessions;
        for (int i = 0; i < 2; ++i) {
            auto s = h->post(u"/v1/sessions"_s, {{u"agent"_s, agentId}, {u"environment_id"_s, env}});
            QCOMPARE(s.status, 200);
            sessions << s.json().value(u"id"_s).toString();
        }
        const QJsonObject before = retrieve(env);

        auto busy = h->del(path(env));
        QCOMPARE(busy.status, 409);
        QCOMPARE(busy.errorType(), u"invalid_request_error"_s);
        QVERIFY2(errorMessage(busy).contains(u"2 active session"_s), qPrintable(errorMessage(busy)));
        QCOMPARE(retrieve(env), before);

        // One archived, one deleted: no live session is left, so the delete goes through.
        QCOMPARE(h->post(u"/v1/sessions/%1/archive"_s.arg(sessions.at(0)), {}).status, 200);
        auto still = h->del(path(env));
        QCOMPARE(still.status, 409);
        QVERIFY(errorMessage(still).contains(u"1 active session"_s));
        QCOMPARE(h->del(u"/v1/sessions/"_s + sessions.at(1)).status, 200);

        auto d = h->del(path(env));
        QCOMPARE(d.status, 200);
        QCOMPARE(d.json(), (QJsonObject{{u"id"_s, env}, {u"type"_s, u"environment_deleted"_s}}));
        QCOMPARE(h->get(path(env)).status, 404);
        QCOMPARE(h->del(path(env)).status, 404);
        QVERIFY(!listIds(u"limit=100&include_archived=true"_s).contains(env));
    }

    // ---- 401 / 404 ---------------------------------------------------------------------------

    void unknownIdsAre404()
    {
        const int rows = h->rowCount(u"environments"_s);
        const QList<HttpResult> results{
            h->get(path(kMissing)),
            h->post(path(kMissing), {{u"name"_s, u"x"_s}}),
            h->post(path(kMissing) + u"/archive"_s, {}),
            h->del(path(kMissing)),
            h->get(path(u"not-an-id"_s)),
        };
        for (const HttpResult &r : results) {
            QCOMPARE(r.status, 404);
            QCOMPARE(r.errorType(), u"not_found_error"_s);
            QVERIFY(!errorMessage(r).isEmpty());
        }
        QVERIFY(errorMessage(results.first()).contains(kMissing));
        QCOMPARE(h->rowCount(u"environments"_s), rows);
    }

    void requestsWithoutKeyAre401()
    {
        const QString id = createId(u"keyed"_s);
        const QByteArray before = everything();
        const QByteArray body = j("{'name':'sneaky'}");
        const QList<HttpResult> results{
            h->request("POST", u"/v1/environments"_s, body, {}, false),
            h->request("GET", u"/v1/environments"_s, {}, {}, false),
            h->request("GET", path(id), {}, {}, false),
            h->request("POST", path(id), body, {}, false),
            h->request("POST", path(id) + u"/archive"_s, {}, {}, false),
            h->request("DELETE", path(id), {}, {}, false),
            h->request("GET", path(id), {}, {{"x-api-key", "wrong-key"}}, false),
        };
        for (const HttpResult &r : results) {
            QCOMPARE(r.status, 401);
            QCOMPARE(r.errorType(), u"authentication_error"_s);
        }
        QCOMPARE(everything(), before);
    }

    // ---- 400s write nothing ------------------------------------------------------------------

    void badCreateIs400AndWritesNothing()
    {
        createId(u"anchor"_s);
        const int rows = h->rowCount(u"environments"_s);
        const QByteArray before = everything();
        const QByteArray longName = "\"" + QByteArray(257, 'n') + "\"";
        const QByteArray longSpec = "\"" + QByteArray(257, 'p') + "\"";
        QByteArray manyPackages = "[";
        for (int i = 0; i < 257; ++i)
            manyPackages += (i ? ",\"p" : "\"p") + QByteArray::number(i) + "\"";
        manyPackages += "]";
        QByteArray manyMetadata = "{";
        for (int i = 0; i < 17; ++i)
            manyMetadata += (i ? ",\"k" : "\"k") + QByteArray::number(i) + "\":\"v\"";
        manyMetadata += "}";
        auto cloud = [](const QByteArray &rest) -> QByteArray {
            return j("{'name':'bad','config':{'type':'cloud',") + rest + "}}";
        };
        auto pip = [&](const QByteArray &spec) -> QByteArray { return cloud(j("'packages':{'pip':[") + spec + "]}"); };
        auto hosts = [&](const QByteArray &host) -> QByteArray {
            return cloud(j("'networking':{'type':'limited','allowed_hosts':[") + host + "]}");
        };
        const QList<QByteArray> bodies{
            // body
            "{", "[]", "\"name\"", "{\"name\":\"a\",}", "",
            // name / top-level fields
            "{}", j("{'name':5}"), j("{'name':''}"), j("{'name':null}"), "{\"name\":" + longName + "}",
            j("{'name':'a','bogus':1}"), j("{'name':'a','description':5}"),
            j("{'name':'a','metadata':{'k':1}}"), j("{'name':'a','metadata':'x'}"),
            j("{'name':'a','metadata':{'':'v'}}"), "{\"name\":\"a\",\"metadata\":" + manyMetadata + "}",
            j("{'name':'a','scope':'galaxy'}"),
            // config
            j("{'name':'a','config':'cloud'}"), j("{'name':'a','config':{}}"),
            j("{'name':'a','config':{'type':'spaceship'}}"), cloud(j("'bogus':1")),
            // networking
            cloud(j("'networking':'unrestricted'")), cloud(j("'networking':{}")),
            cloud(j("'networking':{'type':'open'}")),
            cloud(j("'networking':{'type':'unrestricted','allowed_hosts':[]}")),
            cloud(j("'networking':{'type':'limited','bogus':true}")),
            cloud(j("'networking':{'type':'limited','allow_mcp_servers':'yes'}")),
            cloud(j("'networking':{'type':'limited','allow_package_managers':1}")),
            cloud(j("'networking':{'type':'limited','allowed_hosts':'example.com'}")),
            hosts("5"), hosts(j("''")), hosts(j("'https://example.com'")), hosts(j("'example.com/path'")),
            hosts(j("'exa mple.com'")), hosts(j("'*'")), hosts(j("'*.'")), hosts(j("'-bad.example.com'")),
            hosts(j("'a..b'")), hosts(j("'**.example.com'")), hosts(j("'api.*.example.com'")),
            hosts(j("'user@example.com'")), hosts(j("'example.com:'")), hosts(j("'example.com:123456'")),
            hosts(j("'example.com:70000'")), hosts(j("'example.com:0'")), hosts(j("'ok.example.com','bad host'")),
            // packages
            cloud(j("'packages':'pip'")), cloud(j("'packages':{'pip':'numpy'}")),
            cloud(j("'packages':{'conda':['numpy']}")), cloud(j("'packages':{'type':'pkgs'}")),
            pip("5"), pip(j("''")), pip(j("'-e git+https://x/y'")), pip(j("'--index-url=http://evil'")),
            pip(j("'num py'")), pip(j("'a;rm -rf /'")), pip(j("'$(id)'")), pip(j("'a|b'")), pip(j("'a\\nb'")),
            pip(j("'a`b`'")), pip(j("'ok','bad one'")), pip(longSpec), cloud("\"packages\":{\"pip\":" + manyPackages + "}"),
            // base_template
            cloud(j("'base_template':5")), cloud(j("'base_template':''")),
            cloud("\"base_template\":\"" + QByteArray(129, 't') + "\""),
        };
        for (const QByteArray &b : bodies) {
            auto r = h->postRaw(u"/v1/environments"_s, b);
            QVERIFY2(r.status == 400, b.left(200).constData());
            QCOMPARE(r.errorType(), u"invalid_request_error"_s);
            QVERIFY2(!errorMessage(r).isEmpty(), b.left(200).constData());
        }
        QCOMPARE(h->rowCount(u"environments"_s), rows);
        QCOMPARE(everything(), before);

        // The message names the offending path.
        auto r = h->postRaw(u"/v1/environments"_s, hosts(j("'ok.example.com','bad host'")));
        QVERIFY2(errorMessage(r).contains(u"config.networking.allowed_hosts[1]"_s), qPrintable(errorMessage(r)));
        r = h->postRaw(u"/v1/environments"_s, pip(j("'ok','--pre'")));
        QVERIFY2(errorMessage(r).contains(u"config.packages.pip[1]"_s), qPrintable(errorMessage(r)));
        r = h->postRaw(u"/v1/environments"_s, "{}");
        QVERIFY2(errorMessage(r).contains(u"name"_s), qPrintable(errorMessage(r)));
        r = h->postRaw(u"/v1/environments"_s, j("{'name':'a','bogus':1}"));
        QVERIFY2(errorMessage(r).contains(u"bogus"_s), qPrintable(errorMessage(r)));
        QCOMPARE(everything(), before);
    }

    void badUpdateIs400AndChangesNothing()
    {
        const QString id = create({{u"name"_s, u"stable"_s},
                                   {u"description"_s, u"d"_s},
                                   {u"metadata"_s, QJsonObject{{u"k"_s, u"v"_s}}},
                                   {u"config"_s, QJsonObject{{u"type"_s, u"cloud"_s},
                                                             {u"networking"_s, limited(QJsonArray{u"a.example.com"_s}, false, true)},
                                                             {u"packages"_s, QJsonObject{{u"pip"_s, QJsonArray{u"numpy"_s}}}}}}})
                               .value(u"id"_s)
                               .toString();
        const QByteArray before = everything();
        const QJsonObject original = retrieve(id);
        QTest::qWait(5);
        const QList<QByteArray> bodies{
            "nope", "[]", "{",
            j("{'name':''}"), j("{'name':5}"), j("{'x':1}"), j("{'description':7}"),
            "{\"description\":\"" + QByteArray(2049, 'd') + "\"}",
            j("{'metadata':{'a':2}}"), j("{'metadata':[]}"), j("{'scope':'galaxy'}"),
            j("{'config':'cloud'}"), j("{'config':{}}"), j("{'config':{'type':'spaceship'}}"),
            j("{'config':{'type':'self_hosted'}}"),
            j("{'config':{'type':'cloud','networking':{'type':'nope'}}}"),
            j("{'config':{'type':'cloud','networking':{'type':'limited','allowed_hosts':['http://x.example.com']}}}"),
            j("{'config':{'type':'cloud','packages':{'pip':['-r requirements.txt']}}}"),
            j("{'config':{'type':'cloud','bogus':true}}"),
            // A valid part does not get written when another part is bad.
            j("{'name':'renamed','config':{'type':'cloud','packages':{'apt':['bad spec']}}}"),
            j("{'name':'renamed','metadata':{'k':null},'config':{'type':'cloud','networking':{'type':'limited','allowed_hosts':['*']}}}"),
        };
        for (const QByteArray &b : bodies) {
            auto r = h->postRaw(path(id), b);
            QVERIFY2(r.status == 400, b.left(200).constData());
            QCOMPARE(r.errorType(), u"invalid_request_error"_s);
            QVERIFY2(!errorMessage(r).isEmpty(), b.left(200).constData());
        }
        QCOMPARE(retrieve(id), original); // updated_at included
        QCOMPARE(everything(), before);
    }
};

QTEST_GUILESS_MAIN(TestApiEnvironments)
#include "tst_api_environments.moc"
