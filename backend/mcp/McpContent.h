#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace viv::mcp {

// The name the model is offered for `tool` of server `server`: `mcp__<server>__<tool>` when
// that is valid for both vendors' function names (^[a-zA-Z0-9_-]{1,64}$) and unambiguous (the
// server name neither contains "__" nor starts or ends with "_"); otherwise a readable prefix
// of it plus `_` and 8 hex digits of SHA-1(server NUL tool). A pure function of the pair, so
// the conversation rebuilt from the event log (which holds the real names) names a past call
// exactly as the model saw it.
QString modelToolName(const QString &server, const QString &tool);
// What every modelToolName(server, tool) of `server` starts with, whatever the tool: the names
// the runtime offers for that server's tools (agent save refuses a custom tool named so).
QString modelToolPrefix(const QString &server);

// A CallToolResult's content as agent.mcp_tool_result `content` (text / image blocks the
// model gets back): text → text; image → base64 image; an embedded resource → its text (or an
// image for an image blob, a note for other binary); resource_link → a text line naming it;
// audio → a note; structuredContent → its JSON as text when the result has no text block.
// An empty result becomes one text block saying so.
QJsonArray toResultBlocks(const QJsonObject &callResult);

} // namespace viv::mcp
