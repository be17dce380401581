#include "engine/band_split.h"

#include <algorithm>

namespace stylesweep {
namespace {

// Floor division for possibly negative numerators (PyTorch's div_rtn).
int FloorDiv(int a, int b) {
  const int q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Kernel, stride and padding of a layer as seen by the row geometry.
struct RowOp {
  int kernel = 1;
  int stride = 1;
  int padding = 0;
};

RowOp RowOpOf(const LayerSpec& layer) {
  switch (layer.op) {
    case LayerOp::kConv:
      return {layer.kernel, layer.stride, layer.padding};
    case LayerOp::kMaxPool:
    case LayerOp::kAvgPool:
      return {layer.kernel, layer.stride, 0};
    case LayerOp::kFire:
      return {3, 1, 1};  // the 3x3 expand branch; the 1x1 branches see less
    case LayerOp::kRelu:
      break;
  }
  return {};
}

int IndexOfDeepest(const BackboneSpec& spec, const std::vector<std::string>& layers, std::string* unknown) {
  int deepest = -1;
  for (const auto& name : layers) {
    const int index = FindLayer(spec, name);
    if (index < 0) {
      *unknown = name;
      return -1;
    }
    deepest = std::max(deepest, index);
  }
  return deepest;
}

// Rows of every layer of the prefix [0, last] for `input_rows` input rows.
std::vector<int> RowsPerLayer(const BackboneSpec& spec, int last, int input_rows) {
  std::vector<int> rows;
  int current = input_rows;
  for (int i = 0; i <= last; ++i) {
    current = current > 0 ? LayerOutputRows(spec.layers[i], current) : 0;
    rows.push_back(current);
  }
  return rows;
}

}  // namespace

int LayerOutputRows(const LayerSpec& layer, int input_rows) {
  switch (layer.op) {
    case LayerOp::kRelu:
    case LayerOp::kFire:
      return input_rows;
    case LayerOp::kConv: {
      const int span = input_rows + 2 * layer.padding - layer.kernel;
      return span < 0 ? 0 : FloorDiv(span, layer.stride) + 1;
    }
    case LayerOp::kMaxPool:
    case LayerOp::kAvgPool: {
      if (input_rows < layer.kernel) return 0;
      const int span = input_rows - layer.kernel + (layer.ceil_mode ? layer.stride - 1 : 0);
      int rows = FloorDiv(span, layer.stride) + 1;
      // PyTorch drops a ceil-mode window that would start past the input.
      if (layer.ceil_mode && (rows - 1) * layer.stride >= input_rows) --rows;
      return rows;
    }
  }
  return 0;
}

Result<std::vector<LayerGeometry>> PrefixGeometry(const BackboneSpec& spec, const std::string& deepest_layer) {
  const int last = FindLayer(spec, deepest_layer);
  if (last < 0) return Status::InvalidArgument("layer '" + deepest_layer + "' is not a layer of " + spec.name);
  std::vector<LayerGeometry> out;
  int stride = 1, offset = 0, field = 1;
  for (int i = 0; i <= last; ++i) {
    const RowOp op = RowOpOf(spec.layers[i]);
    offset += op.padding * stride;
    field += (op.kernel - 1) * stride;
    stride *= op.stride;
    out.push_back({spec.layers[i].name, stride, offset, field});
  }
  return out;
}

Result<BandLayout> PlanBands(const BackboneSpec& spec, const std::vector<std::string>& layers, int image_rows,
                             int num_bands) {
  if (num_bands < 1) return Status::InvalidArgument("the number of bands must be at least 1");
  if (layers.empty()) return Status::InvalidArgument("no layers given to split bands for");
  std::string unknown;
  const int last = IndexOfDeepest(spec, layers, &unknown);
  if (last < 0) return Status::InvalidArgument("layer '" + unknown + "' is not a layer of " + spec.name);
  SS_ASSIGN_OR_RETURN(std::vector<LayerGeometry> geometry, PrefixGeometry(spec, spec.layers[last].name));

  BandLayout layout;
  layout.image_rows = image_rows;
  layout.layers = layers;
  layout.alignment = geometry.back().stride;
  const int field = geometry.back().receptive_field;
  layout.halo = (field + layout.alignment - 1) / layout.alignment * layout.alignment;
  const std::vector<int> full_rows = RowsPerLayer(spec, last, image_rows);
  for (const auto& name : layers) {
    const int rows = full_rows[FindLayer(spec, name)];
    if (rows <= 0) {
      return Status::InvalidArgument("an image of " + std::to_string(image_rows) + " rows is too small for layer " +
                                     name + " of " + spec.name);
    }
    layout.layer_rows.push_back(rows);
  }
  if (image_rows < num_bands * layout.alignment) {
    return Status::InvalidArgument(
        "an image of " + std::to_string(image_rows) + " rows cannot be split into " + std::to_string(num_bands) +
        " bands: layer " + spec.layers[last].name + " needs bands of at least " + std::to_string(layout.alignment) +
        " rows, so at least " + std::to_string(num_bands * layout.alignment) + " rows (use fewer devices)");
  }

  std::vector<int> boundaries(num_bands + 1);
  for (int r = 0; r < num_bands; ++r) {
    const long long share = static_cast<long long>(r) * image_rows / num_bands;
    boundaries[r] = static_cast<int>(share / layout.alignment * layout.alignment);
  }
  boundaries[num_bands] = image_rows;
  for (int r = 0; r < num_bands; ++r) {
    Band band;
    band.owned = {boundaries[r], boundaries[r + 1]};
    band.computed = {std::max(0, band.owned.begin - layout.halo), std::min(image_rows, band.owned.end + layout.halo)};
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerGeometry& g = geometry[FindLayer(spec, layers[l])];
      const int rows = layout.layer_rows[l];
      const int begin = std::min(band.owned.begin / g.stride, rows);
      const int end = r + 1 == num_bands ? rows : std::min(band.owned.end / g.stride, rows);
      band.layer_owned.push_back({begin, end});
      band.layer_first_row.push_back(band.computed.begin / g.stride);
    }
    layout.bands.push_back(std::move(band));
  }
  return layout;
}

Status CheckBandLayout(const BackboneSpec& spec, const BandLayout& layout) {
  std::string unknown;
  const int last = IndexOfDeepest(spec, layout.layers, &unknown);
  if (last < 0) return Status::Internal("layout names layer '" + unknown + "' that " + spec.name + " lacks");
  SS_ASSIGN_OR_RETURN(std::vector<LayerGeometry> geometry, PrefixGeometry(spec, spec.layers[last].name));
  const int image_rows = layout.image_rows;
  for (size_t l = 0; l < layout.layers.size(); ++l) {
    const int index = FindLayer(spec, layout.layers[l]);
    const LayerGeometry& g = geometry[index];
    int next_row = 0;
    for (size_t b = 0; b < layout.bands.size(); ++b) {
      const Band& band = layout.bands[b];
      const std::string where = "band " + std::to_string(b) + ", layer " + g.name;
      const RowRange owned = band.layer_owned[l];
      if (owned.begin != next_row || owned.end < owned.begin) {
        return Status::Internal(where + ": owns rows [" + std::to_string(owned.begin) + ", " +
                                std::to_string(owned.end) + "), expected to start at row " +
                                std::to_string(next_row));
      }
      next_row = owned.end;
      if (band.computed.begin % g.stride != 0 || band.layer_first_row[l] * g.stride != band.computed.begin) {
        return Status::Internal(where + ": computed rows start at " + std::to_string(band.computed.begin) +
                                ", not a multiple of the stride " + std::to_string(g.stride));
      }
      const int band_rows = RowsPerLayer(spec, index, band.computed.size())[index];
      for (int row = owned.begin; row < owned.end; ++row) {
        const int start = row * g.stride - g.offset;
        const int end = start + g.receptive_field;
        const bool top_ok = band.computed.begin == 0 || start >= band.computed.begin;
        const bool bottom_ok = band.computed.end == image_rows || end <= band.computed.end;
        const int band_row = row - band.layer_first_row[l];
        if (!top_ok || !bottom_ok || band_row < 0 || band_row >= band_rows) {
          return Status::Internal(where + ", row " + std::to_string(row) + ": depends on input rows [" +
                                  std::to_string(start) + ", " + std::to_string(end) + ") but the band computes [" +
                                  std::to_string(band.computed.begin) + ", " + std::to_string(band.computed.end) +
                                  ") giving " + std::to_string(band_rows) + " rows");
        }
      }
    }
    if (next_row != layout.layer_rows[l]) {
      return Status::Internal("layer " + g.name + ": bands own " + std::to_string(next_row) + " of " +
                              std::to_string(layout.layer_rows[l]) + " rows");
    }
  }
  return Status::Ok();
}

std::string DescribeBandLayout(const BandLayout& layout) {
  std::string sizes;
  for (size_t b = 0; b < layout.bands.size(); ++b) {
    sizes += (b ? "/" : "") + std::to_string(layout.bands[b].owned.size());
  }
  return std::to_string(layout.bands.size()) + " bands of " + sizes + " rows, halo " + std::to_string(layout.halo) +
         ", aligned to " + std::to_string(layout.alignment);
}

}  // namespace stylesweep
