#pragma once

#include "ToolExecutor.h"

#include <QString>

#include <array>
#include <functional>
#include <memory>

namespace viv {

// Where a tool call runs: one executor per toolset (runtime/ToolExecutor.h), installed from
// outside the runtime's loop, and execute() dispatches each call by ToolCall::toolset. The one
// place to change where a call runs (what tools an agent offers, and their policy, is
// runtime/ToolCatalog.h).
//
// RuntimeManager owns the router. runtime/RuntimeModule installs the no-sandbox executor for
// built-in tools and runtime/McpTools for MCP tools; sandbox/SandboxModule replaces the built-in
// one with the VM's (RuntimeManager::setToolExecutor). Custom tools have no executor: the
// runtime hands their calls to the client (agent.custom_tool_use), so a custom call that
// reaches the router is refused like any call whose toolset has none.
class ToolRouter
{
public:
    // `executor` runs `toolset`'s calls from now on, replacing the one before (nullptr: none).
    // The router owns it.
    void install(Toolset toolset, std::unique_ptr<ToolExecutor> executor);
    // Same, but the caller owns `executor` and keeps it alive as long as the router may use it.
    void attach(Toolset toolset, ToolExecutor &executor);
    // The executor that runs `toolset`'s calls; nullptr when none is installed.
    ToolExecutor *executor(Toolset toolset) const;

    // Runs `call` on its toolset's executor, with that executor's contract (ToolExecutor.h:
    // returns at once, `done` later, exactly once, unless the handle is cancelled or
    // destroyed). A toolset with no executor answers an is_error result naming the toolset and
    // the tool, on the next event-loop turn; nothing runs.
    std::unique_ptr<ToolExecution> execute(const ToolCall &call, std::function<void(ToolResult)> done);
    // Tells every installed executor that the session was deleted.
    void releaseSession(const QString &sessionId);

private:
    struct Slot
    {
        std::unique_ptr<ToolExecutor> owned;
        ToolExecutor *executor = nullptr;
    };
    static constexpr std::size_t kToolsets = 3;
    static std::size_t index(Toolset toolset) { return static_cast<std::size_t>(toolset); }
    std::array<Slot, kToolsets> m_slots;
};

} // namespace viv
