#include "ModelTable.h"

namespace viv {

QString stripModelProvider(const QString &model)
{
    if (model.startsWith(QStringLiteral("anthropic/")))
        return model.mid(10);
    if (model.startsWith(QStringLiteral("openai/")))
        return model.mid(7);
    return model;
}

} // namespace viv
