// The LayerChecker that asks the weights file itself (engine/backbone_spec.h).
#include "engine/backbone_spec.h"
#include "experiments/sweep.h"

namespace stylesweep {

LayerChecker BackboneLayerChecker() {
  return [](const StyleOptions& options, const std::string& models_dir) -> Result<CheckedLayers> {
    SS_ASSIGN_OR_RETURN(ResolvedBackbone resolved,
                        ResolveBackbone(options.backbone, options.pooling, options.weights, models_dir,
                                        options.content_layers, options.style_layers));
    CheckedLayers checked;
    checked.weights_path = resolved.weights.path;
    checked.content_layers = resolved.layers.content_layers;
    checked.style_layers = resolved.layers.style_layers;
    checked.note = resolved.layers.note;
    return checked;
  };
}

}  // namespace stylesweep
