#pragma once

#include <QString>

namespace viv {

// Backend validation errors name the API's fields the way the API spells them
// ("`resources[0].mount_path`: must be an absolute path …"). People read the forms' labels, so
// the GUI words such an error with them: “Mount path” (Resources, item 1): must be …
// Only a field path in backticks followed by a colon (JsonFields::failAt()'s form) is replaced;
// quoted values elsewhere in a message are left as they are. A field without a known label is
// named from its API name ("max_tokens" → “Max tokens”).
QString fieldLabel(const QString &apiPath);
QString withFieldLabels(const QString &message);

} // namespace viv
