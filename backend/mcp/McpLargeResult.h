#pragma once

#include <QJsonArray>
#include <QString>

namespace viv::mcp {

// An MCP tool result larger than the model should get inline (issue 13 item 3). The Managed
// Agents docs give no size; Claude Code's MCP docs do: a result whose text is over 50,000
// characters is saved to a file and the conversation gets a reference to it instead. Vivarium
// uses the same default, configurable with VIVARIUM_MCP_RESULT_MAX_CHARS.
//
// "Size" is the number of characters (UTF-16 code units, as the docs' JavaScript counts them)
// of the result's text blocks; images are not counted and always stay in the result.
inline constexpr qsizetype kDefaultResultMaxChars = 50'000;
// How much of a spilled result's text the model gets inline, ahead of the note naming the file.
inline constexpr qsizetype kResultPreviewChars = 2'000;
// Where a spilled result goes in the session's VM: <dir>/<mcp_tool_use event id>.txt.
inline constexpr char16_t kResultSpillDir[] = u"/mnt/session/mcp_results";

// VIVARIUM_MCP_RESULT_MAX_CHARS (a positive integer; anything else keeps the default).
qsizetype resultMaxCharsFromEnvironment();

// The characters of `blocks`' text blocks (tool-result blocks, as toResultBlocks makes them).
qsizetype resultTextChars(const QJsonArray &blocks);

// The text of `blocks`' text blocks, joined with a blank line (what the spill file holds).
QString resultText(const QJsonArray &blocks);

// The guest path a result of the call `toolUseId` is written to.
QString resultSpillPath(const QString &toolUseId);

// The first `n` characters of `text`, never splitting a surrogate pair (may be n - 1).
QString headChars(const QString &text, qsizetype n);

// The blocks the model gets for an oversized result that was written to `path` in the session's
// VM: one text block with the first kResultPreviewChars characters and a note naming the path,
// the full size and how to read the rest; then the result's image blocks, unchanged.
QJsonArray spilledResultBlocks(const QJsonArray &blocks, const QString &path, qsizetype maxChars);

// The blocks the model gets for an oversized result that could not be written anywhere
// (`why`: the session has no sandbox, or the write failed): the first `maxChars` characters and
// a note saying the rest was cut and why; then the image blocks, unchanged.
QJsonArray truncatedResultBlocks(const QJsonArray &blocks, qsizetype maxChars, const QString &why);

} // namespace viv::mcp
