// Band split geometry: how one image is cut into horizontal bands, one per
// rank, so that each rank runs the backbone on its band plus halos and still
// gets exactly the full image's features for the rows it owns.
//
// Torch-free: computed from the BackboneSpec layer table alone.
//
// Per layer l (in forward order) the table gives a total stride S_l (input
// rows per row of l), an offset P_l (the padding accumulated so far) and a
// receptive field R_l: row i of layer l depends on input rows
// [i*S_l - P_l, i*S_l - P_l + R_l) and on nothing else. A fire module counts
// as its 3x3 branch (kernel 3, padding 1), which covers its 1x1 branch.
//
// Bands own consecutive input rows, every boundary a multiple of the total
// stride A of the deepest layer used, so each layer's rows split cleanly:
// a band owning input rows [o_r, o_{r+1}) owns rows [o_r/S_l, o_{r+1}/S_l)
// of layer l (the last band also owns any rows a ceil-mode pool adds at the
// bottom). Each band computes input rows [o_r - halo, o_{r+1} + halo),
// clipped to the image, with halo = R_deepest rounded up to A. Then every
// owned row's receptive field lies inside the computed rows (or reaches the
// image edge exactly as in the full image), and since the computed rows start
// at a multiple of every S_l, full row i of layer l is band row
// i - input_begin / S_l. docs/BAND_SPLIT.md has the argument in full.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/backbone_spec.h"

namespace stylesweep {

// Where each row of one layer looks in the input (see the file comment).
struct LayerGeometry {
  std::string name;
  int stride = 1;           // S_l: input rows per row of this layer
  int offset = 0;           // P_l: row i's receptive field starts at input row i*S_l - P_l
  int receptive_field = 1;  // R_l: input rows row i depends on
};

// The geometry of every layer of `spec` up to and including `deepest_layer`,
// in forward order. kInvalidArgument when the layer is unknown.
Result<std::vector<LayerGeometry>> PrefixGeometry(const BackboneSpec& spec, const std::string& deepest_layer);

// Rows of `layer`'s output for `input_rows` rows of input (PyTorch's sizes,
// ceil_mode included); 0 when the input is too small for the kernel.
int LayerOutputRows(const LayerSpec& layer, int input_rows);

// [begin, end) rows.
struct RowRange {
  int begin = 0;
  int end = 0;
  int size() const { return end - begin; }
};

struct Band {
  RowRange owned;                 // input rows this band owns
  RowRange computed;              // input rows it runs the backbone on: owned plus halos, clipped to the image
  std::vector<RowRange> layer_owned;  // per BandLayout::layers: owned rows of the full layer's output
  std::vector<int> layer_first_row;   // per layer: full-layer row of the band's first output row (computed.begin / S_l)
};

struct BandLayout {
  int image_rows = 0;
  int alignment = 1;               // A: total stride of the deepest layer; band boundaries are multiples of it
  int halo = 0;                    // rows added above and below each band: R_deepest rounded up to A
  std::vector<std::string> layers; // the layers asked for, in the order of Band::layer_owned
  std::vector<int> layer_rows;     // full image: rows of each layer's output
  std::vector<Band> bands;         // one per rank, top to bottom
};

// Cuts an image of `image_rows` rows into `num_bands` bands for the layers
// `layers` of `spec` (content and style layers together). Owned rows are as
// equal as the alignment allows. kInvalidArgument when a layer is unknown or
// the image is too short to give every band at least `alignment` rows (the
// message says how many rows are needed).
Result<BandLayout> PlanBands(const BackboneSpec& spec, const std::vector<std::string>& layers, int image_rows,
                             int num_bands);

// Checks the promise of PlanBands against the geometry, independently of how
// the bands were chosen: every layer's rows are owned by exactly one band,
// every owned row's receptive field lies inside the band's computed rows (or
// meets the image edge where the band does), and the band's own forward pass
// produces that row. kInternal naming the band, layer and row otherwise.
Status CheckBandLayout(const BackboneSpec& spec, const BandLayout& layout);

// "3 bands of 52/52/56 rows, halo 32, aligned to 4".
std::string DescribeBandLayout(const BandLayout& layout);

}  // namespace stylesweep
