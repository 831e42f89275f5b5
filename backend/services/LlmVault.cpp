#include "LlmVault.h"

#include "core/Validators.h"

#include <QUrl>

namespace viv::llmvault {

namespace {

QString keyPath(const char *key)
{
    return QStringLiteral("`metadata.%1`").arg(QLatin1String(key));
}

// Empty when `url` is a usable http(s) URL with a host, else why not.
QString badUrl(const QString &url)
{
    if (!validate::isHttpUrl(url))
        return QStringLiteral("expected an http(s) URL with a host, got \"%1\"").arg(url);
    return {};
}

} // namespace

Result<std::optional<LlmVaultSpec>> fromMetadata(const QJsonObject &metadata)
{
    const QString prefix = QLatin1String(kS0Prefix);
    bool s0 = false;
    for (auto it = metadata.constBegin(); it != metadata.constEnd(); ++it) {
        if (!it.key().startsWith(prefix))
            continue;
        s0 = true;
        if (it.key() != QLatin1String(kS0Role) && it.key() != QLatin1String(kS0Engine)
            && it.key() != QLatin1String(kS0BaseUrl))
            return ApiError::invalid(QStringLiteral("`metadata.%1`: unknown Sandbox0 Managed Agents key; Vivarium "
                                                    "understands %2, %3 and %4 (LLM vaults)")
                                         .arg(it.key(), QLatin1String(kS0Role), QLatin1String(kS0Engine),
                                              QLatin1String(kS0BaseUrl)));
    }
    const bool ours = metadata.contains(QLatin1String(kProvider)) || metadata.contains(QLatin1String(kBaseUrl));
    if (s0 && ours)
        return ApiError::invalid(QStringLiteral("`metadata`: declare the LLM vault with either the vivarium.llm.* "
                                                "keys or the sandbox0.managed_agents.* keys, not both"));

    LlmVaultSpec spec;
    QString base;
    const char *baseKey = nullptr;
    if (ours) {
        if (!metadata.contains(QLatin1String(kProvider)))
            return ApiError::invalid(QStringLiteral("%1: given without %2, which makes a vault an LLM vault")
                                         .arg(keyPath(kBaseUrl), QLatin1String(kProvider)));
        const QString p = metadata.value(QLatin1String(kProvider)).toString();
        if (p != u"anthropic" && p != u"openai")
            return ApiError::invalid(
                QStringLiteral("%1: must be \"anthropic\" or \"openai\", got \"%2\"").arg(keyPath(kProvider), p));
        spec.format = p == u"anthropic" ? LlmVaultSpec::Format::Anthropic : LlmVaultSpec::Format::OpenAi;
        base = metadata.value(QLatin1String(kBaseUrl)).toString();
        baseKey = kBaseUrl;
    } else if (s0) {
        const QString role = metadata.value(QLatin1String(kS0Role)).toString();
        if (!metadata.contains(QLatin1String(kS0Role)))
            return ApiError::invalid(QStringLiteral("%1: field required with the other sandbox0.managed_agents.* keys "
                                                    "(must be \"llm\")")
                                         .arg(keyPath(kS0Role)));
        if (role != u"llm")
            return ApiError::invalid(QStringLiteral("%1: must be \"llm\" (the only Sandbox0 vault role Vivarium "
                                                    "implements), got \"%2\"")
                                         .arg(keyPath(kS0Role), role));
        if (!metadata.contains(QLatin1String(kS0Engine)))
            return ApiError::invalid(
                QStringLiteral("%1: field required for an LLM vault (\"claude\" or \"codex\")").arg(keyPath(kS0Engine)));
        const QString engine = metadata.value(QLatin1String(kS0Engine)).toString();
        if (engine != u"claude" && engine != u"codex")
            return ApiError::invalid(
                QStringLiteral("%1: must be \"claude\" or \"codex\", got \"%2\"").arg(keyPath(kS0Engine), engine));
        spec.format = engine == u"claude" ? LlmVaultSpec::Format::Anthropic : LlmVaultSpec::Format::OpenAi;
        base = metadata.value(QLatin1String(kS0BaseUrl)).toString();
        baseKey = kS0BaseUrl;
    } else {
        return std::optional<LlmVaultSpec>();
    }
    if (metadata.contains(QLatin1String(baseKey))) {
        if (const QString why = badUrl(base); !why.isEmpty())
            return ApiError::invalid(QStringLiteral("%1: %2").arg(keyPath(baseKey), why));
        spec.baseUrl = base;
    }
    return std::optional<LlmVaultSpec>(spec);
}

bool isLlmVault(const QJsonObject &metadata)
{
    auto spec = fromMetadata(metadata);
    return spec && spec->has_value();
}

} // namespace viv::llmvault
