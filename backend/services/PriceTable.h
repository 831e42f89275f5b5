#pragma once

#include "core/ModelTable.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace viv {

// List prices of model tokens, for session usage (`usage.list_cost`) and budgets
// (`budget.max_list_cost`). See PriceTable.cpp for the built-in table, its source and date.
//
// A price is in US dollars per million tokens, per kind of token. Cache reads and writes are
// priced separately (Anthropic: a 5-minute cache write is 1.25 × input, a read 0.1 × input;
// OpenAI bills no cache write, so a write costs the input price and a cached input read its
// "cached input" price).
struct ModelPrice
{
    double input = 0;
    double output = 0;
    double cacheRead = 0;
    double cacheWrite = 0;
};

// Token counts of one model response (or any sum of them).
struct TokenCounts
{
    qint64 input = 0;
    qint64 output = 0;
    qint64 cacheRead = 0;
    qint64 cacheWrite = 0;
};

class PriceTable
{
public:
    // The process-wide table: the built-in prices, overridden and extended by the JSON object in
    // VIVARIUM_MODEL_PRICES (read once): {"<model id>": {"input": 3, "output": 15,
    // "cache_read": 0.3, "cache_write": 3.75}, …} in USD per million tokens (`cache_read` and
    // `cache_write` default to `input`). A malformed value is logged and ignored as a whole.
    static const PriceTable &instance();

    // Builds a table from the built-in prices and an override JSON (empty = none). `problem`
    // receives why the override was ignored, if it was.
    static PriceTable withOverrides(const QByteArray &json, QString *problem = nullptr);

    // The price of a model id as the agent names it ("claude-sonnet-4-5", "anthropic/…",
    // "openai/gpt-4o", a dated id such as "claude-sonnet-4-5-20250929"): an exact configured id
    // first, then the longest built-in or configured prefix. nullopt: no known list price (a
    // local model) — its tokens cost 0 and a budget cannot measure it.
    std::optional<ModelPrice> price(const QString &model) const;

    // List cost of `tokens` of `model`, in nano-dollars (1e-9 USD; 1 cent = 10 000 000).
    // 0 for a model without a price.
    qint64 costNanoUsd(const QString &model, const TokenCounts &tokens) const;

    // Nano-dollars → whole cents, rounded to the nearest cent (how list_cost is reported).
    static qint64 nanoToCents(qint64 nano) { return (nano + 5'000'000) / 10'000'000; }
    static constexpr qint64 kNanoPerCent = 10'000'000;

private:
    ModelTable<ModelPrice> m_table; // no "*" fallback: an unknown model has no price
};

} // namespace viv
