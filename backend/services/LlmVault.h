#pragma once

#include "core/Result.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace viv {

// What makes a vault an LLM vault: the model endpoint and key a session's turns use (README
// "Model providers"). Two spellings of the same declaration are accepted in vault metadata:
//
//   ours         vivarium.llm.provider  = anthropic | openai   (required)
//                vivarium.llm.base_url  = http(s) URL           (optional)
//   Sandbox0's   sandbox0.managed_agents.role         = llm                (required)
//                sandbox0.managed_agents.engine       = claude | codex     (required;
//                                                       claude → anthropic, codex → openai)
//                sandbox0.managed_agents.llm_base_url = http(s) URL         (optional)
//
// A vault may use one spelling, not both; any other `sandbox0.managed_agents.*` key, or a role
// other than llm, is refused (Vivarium implements only Sandbox0's LLM vaults). Without a base
// URL the chosen format's default applies (ANTHROPIC_BASE_URL / OPENAI_BASE_URL).
struct LlmVaultSpec
{
    enum class Format { Anthropic, OpenAi };
    Format format = Format::Anthropic;
    QString baseUrl; // empty: the format's default
};

namespace llmvault {

inline constexpr const char *kProvider = "vivarium.llm.provider";
inline constexpr const char *kBaseUrl = "vivarium.llm.base_url";
inline constexpr const char *kS0Prefix = "sandbox0.managed_agents.";
inline constexpr const char *kS0Role = "sandbox0.managed_agents.role";
inline constexpr const char *kS0Engine = "sandbox0.managed_agents.engine";
inline constexpr const char *kS0BaseUrl = "sandbox0.managed_agents.llm_base_url";

// The LLM declaration of a vault's metadata: nullopt when it declares none, an ApiError (400,
// naming the `metadata.<key>`) when it declares one badly.
Result<std::optional<LlmVaultSpec>> fromMetadata(const QJsonObject &metadata);

// Whether the (already validated) metadata declares an LLM vault.
bool isLlmVault(const QJsonObject &metadata);

} // namespace llmvault
} // namespace viv
