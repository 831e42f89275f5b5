#include "PriceTable.h"

#include "core/ModelTable.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <cmath>

Q_LOGGING_CATEGORY(lcPrices, "vivarium.prices")

namespace viv {

namespace {

// Built-in list prices, USD per million tokens: {input, output, cache read, cache write}.
//
// Anthropic rows: the "Model pricing" table of Anthropic's platform docs (About Claude →
// Pricing) and each model's overview page (Models → <model> → Specifications → Pricing),
// checked against them on 2026-12-06: base input, output, cache hits, and the 5-minute cache
// write (the Messages API reports one cache-creation figure; the 1-hour write, 2 × input, is not
// represented). Claude Haiku 5.5 is priced by prompt length; its row is the band for prompts up
// to 100K tokens (a longer prompt lists at 5 × those rates — configure it if that matters).
// Sonnet 5.5's cache hit is the rate after its 2026-10-07 cut. OpenAI rows: OpenAI "API
// pricing" (input, cached input, output; no charge for cache writes, so a write is priced as
// input). Standard rates (no batch discount, no fast mode, no long-context surcharge). Matching
// is by id prefix (longest wins), so dated ids ("claude-sonnet-4-5-20250929") share their
// family's price — which is why every minor version whose price differs from its family's
// prefix needs its own row (claude-opus-4-7 must not fall back to "claude-opus-4"). Prices
// change: VIVARIUM_MODEL_PRICES overrides any entry (README "Budgets and usage").
struct Builtin
{
    const char *prefix;
    double input, output, cacheRead, cacheWrite;
};

constexpr Builtin kBuiltin[] = {
    // Anthropic
    {"claude-fable-5-2", 8, 40, 0.2, 10}, // cache rates: Fable 5.1's multipliers (1.25 ×, 0.025 × input)
    {"claude-fable-5-1", 10, 50, 0.25, 12.5},
    {"claude-fable-5", 10, 50, 1, 12.5},
    {"claude-mythos-5-1", 10, 50, 0.25, 12.5},
    {"claude-mythos-5", 10, 50, 1, 12.5},
    {"claude-opus-5-5", 4, 20, 0.2, 5},
    {"claude-opus-5", 5, 25, 0.5, 6.25},
    {"claude-sonnet-5-5", 2, 10, 0.1, 2.5},
    {"claude-sonnet-5", 2, 10, 0.2, 2.5},
    {"claude-haiku-5-5", 0.1, 0.5, 0.01, 0.125}, // prompts up to 100K tokens
    {"claude-opus-4-8", 5, 25, 0.5, 6.25},
    {"claude-opus-4-7", 5, 25, 0.5, 6.25},
    {"claude-opus-4-6", 5, 25, 0.5, 6.25},
    {"claude-opus-4-5", 5, 25, 0.5, 6.25},
    {"claude-opus-4", 15, 75, 1.5, 18.75}, // Opus 4 and 4.1
    {"claude-sonnet-4", 3, 15, 0.3, 3.75}, // Sonnet 4, 4.5, 4.6
    {"claude-haiku-4", 1, 5, 0.1, 1.25},   // Haiku 4.5
    {"claude-3-7-sonnet", 3, 15, 0.3, 3.75},
    {"claude-3-5-sonnet", 3, 15, 0.3, 3.75},
    {"claude-3-5-haiku", 0.8, 4, 0.08, 1},
    {"claude-3-opus", 15, 75, 1.5, 18.75},
    {"claude-3-haiku", 0.25, 1.25, 0.03, 0.3},
    // OpenAI
    {"gpt-5", 1.25, 10, 0.125, 1.25},
    {"gpt-5-mini", 0.25, 2, 0.025, 0.25},
    {"gpt-5-nano", 0.05, 0.4, 0.005, 0.05},
    {"gpt-4.1", 2, 8, 0.5, 2},
    {"gpt-4.1-mini", 0.4, 1.6, 0.1, 0.4},
    {"gpt-4.1-nano", 0.1, 0.4, 0.025, 0.1},
    {"gpt-4o", 2.5, 10, 1.25, 2.5},
    {"gpt-4o-mini", 0.15, 0.6, 0.075, 0.15},
    {"o3", 2, 8, 0.5, 2},
    {"o3-mini", 1.1, 4.4, 0.55, 1.1},
    {"o4-mini", 1.1, 4.4, 0.275, 1.1},
};

} // namespace

PriceTable PriceTable::withOverrides(const QByteArray &json, QString *problem)
{
    QList<ModelTable<ModelPrice>::Entry> builtin;
    for (const Builtin &b : kBuiltin)
        builtin.append({QString::fromLatin1(b.prefix), {b.input, b.output, b.cacheRead, b.cacheWrite}});
    PriceTable t;
    t.m_table = ModelTable<ModelPrice>::withOverrides(
        builtin, json, QStringLiteral("not a JSON object of model id → prices"), /*wildcard*/ false,
        [](const QString &key, const QJsonValue &value, QString *why) -> std::optional<ModelPrice> {
            auto fail = [&](const QString &message) {
                *why = message;
                return std::nullopt;
            };
            if (!value.isObject())
                return fail(
                    QStringLiteral("\"%1\": expected an object {input, output, cache_read, cache_write}").arg(key));
            const QJsonObject p = value.toObject();
            ModelPrice price;
            bool ok = true;
            auto read = [&](const char *name, double fallback) {
                const QJsonValue v = p.value(QLatin1String(name));
                if (v.isUndefined())
                    return fallback;
                if (!v.isDouble() || v.toDouble() < 0 || !std::isfinite(v.toDouble()))
                    ok = false;
                return v.toDouble();
            };
            for (const QString &k : p.keys()) {
                if (k != u"input" && k != u"output" && k != u"cache_read" && k != u"cache_write")
                    return fail(QStringLiteral("\"%1\": unknown key \"%2\"").arg(key, k));
            }
            if (!p.contains(QStringLiteral("input")) || !p.contains(QStringLiteral("output")))
                return fail(QStringLiteral("\"%1\": `input` and `output` are required").arg(key));
            price.input = read("input", 0);
            price.output = read("output", 0);
            price.cacheRead = read("cache_read", price.input);
            price.cacheWrite = read("cache_write", price.input);
            if (!ok)
                return fail(
                    QStringLiteral("\"%1\": prices must be non-negative numbers (USD per million tokens)").arg(key));
            return price;
        },
        problem);
    return t;
}

const PriceTable &PriceTable::instance()
{
    static const PriceTable table =
        modelTableFromEnvironment("VIVARIUM_MODEL_PRICES", &PriceTable::withOverrides, lcPrices());
    return table;
}

std::optional<ModelPrice> PriceTable::price(const QString &model) const
{
    return m_table.find(model);
}

qint64 PriceTable::costNanoUsd(const QString &model, const TokenCounts &t) const
{
    const auto p = price(model);
    if (!p)
        return 0;
    // USD per million tokens × tokens = micro-dollars; × 1000 = nano-dollars.
    const double nano = (double(t.input) * p->input + double(t.output) * p->output
                         + double(t.cacheRead) * p->cacheRead + double(t.cacheWrite) * p->cacheWrite)
                        * 1000.0;
    return qint64(std::llround(nano));
}

} // namespace viv
