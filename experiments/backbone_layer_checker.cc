// The LayerChecker that asks the weights file itself (engine/backbone_spec.h).
#include "engine/backbone_spec.h"
#include "experiments/sweep.h"

namespace stylesweep {

LayerChecker BackboneLayerChecker() {
  return [](const StyleOptions& options, const std::string& models_dir) -> Result<CheckedLayers> {
    SS_ASSIGN_OR_RETURN(BackboneSpec spec, GetBackboneSpec(options.backbone, options.pooling));
    SS_ASSIGN_OR_RETURN(WeightsInfo weights, InspectWeights(spec, options.weights, models_dir));
    Result<ResolvedLayers> resolved =
        ResolveLayers(spec, weights.available_layers, options.content_layers, options.style_layers);
    if (!resolved.ok()) return resolved.status().WithContext(options.backbone + " weights " + weights.path);
    CheckedLayers checked;
    checked.weights_path = weights.path;
    checked.content_layers = resolved->content_layers;
    checked.style_layers = resolved->style_layers;
    checked.note = resolved->note;
    return checked;
  };
}

}  // namespace stylesweep
