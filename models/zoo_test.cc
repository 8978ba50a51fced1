#include "models/zoo.h"

#include <vector>

#include "engine/loss.h"
#include "engine/optimizer.h"
#include "engine/testing/gradient_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace psg::models {
namespace {

using engine::Mode;

int64_t Count(const std::string& name, ShortcutKind shortcut = ShortcutKind::kProjection,
              int64_t classes = 10) {
  auto net = BuildModel({name, classes, shortcut});
  return CountTrainableParameters(*net);
}

// Published counts: He et al. 2016's CIFAR ResNets (0.27 M, 0.46 M, 0.66 M,
// 0.85 M, 1.7 M; the exact option-A counts of the widely used PyTorch port),
// torchvision's ResNet-18 (11,689,512) and the common CIFAR VGG-16-BN
// (14,728,266).
TEST(ZooTest, ParameterCountsMatchPublishedOnes) {
  EXPECT_EQ(Count("resnet20", ShortcutKind::kZeroPad), 269722);
  EXPECT_EQ(Count("resnet32", ShortcutKind::kZeroPad), 464154);
  EXPECT_EQ(Count("resnet44", ShortcutKind::kZeroPad), 658586);
  EXPECT_EQ(Count("resnet56", ShortcutKind::kZeroPad), 853018);
  EXPECT_EQ(Count("resnet110", ShortcutKind::kZeroPad), 1727962);
  // Option B adds two 1x1 projections with BN: 16*32 + 2*32 + 32*64 + 2*64.
  EXPECT_EQ(Count("resnet20"), 269722 + 2752);
  EXPECT_EQ(Count("resnet32"), 464154 + 2752);
  EXPECT_EQ(Count("resnet18", ShortcutKind::kProjection, 1000), 11689512);
  EXPECT_EQ(Count("vgg16_bn"), 14728266);
  // LeNet-5: 156 + 2416 + 48120 + 10164 + 850.
  EXPECT_EQ(Count("lenet5"), 61706);
}

TEST(ZooTest, EveryModelProducesLogitsOfTheRightShape) {
  for (const std::string& name : ModelNames()) {
    SCOPED_TRACE(name);
    const int64_t classes = name == "resnet18" ? 1000 : 7;
    auto net = BuildModel({name, classes});
    InitializeParameters(*net, 1);
    const engine::Dims in = InputDims(name);
    const engine::Tensor x = engine::testing::RandomPlain({2, in[0], in[1], in[2]}, 2);
    const engine::Tensor& y = net->Forward(x, Mode::kEval);
    EXPECT_EQ(y.dims(), (engine::Dims{2, classes}));
  }
}

TEST(ZooTest, UnknownModelIsRejectedWithTheKnownNames) {
  EXPECT_THAT([] { BuildModel({"resnet21"}); },
              ::testing::ThrowsMessage<std::invalid_argument>(
                  ::testing::HasSubstr("unknown model 'resnet21'; known: resnet20, resnet32")));
}

// End to end: forward, loss, backward and SGD fit one small batch.
TEST(ZooTest, ResNet20FitsASmallBatch) {
  for (ShortcutKind shortcut : {ShortcutKind::kProjection, ShortcutKind::kZeroPad}) {
    auto net = BuildModel({"resnet20", 10, shortcut});
    InitializeParameters(*net, 3);
    engine::ParameterList params;
    net->CollectParameters(&params);
    engine::Sgd sgd(engine::TrainableOnly(params), {.momentum = 0.9f});
    engine::SoftmaxCrossEntropy loss({});
    const engine::Tensor x = engine::testing::RandomPlain({8, 3, 32, 32}, 4);
    const std::vector<int32_t> labels = {0, 1, 2, 3, 4, 5, 6, 7};
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      last = loss.Forward(net->Forward(x, Mode::kTrain), labels);
      if (step == 0) first = last;
      net->Backward(loss.Backward());
      sgd.Step(0.05f);
    }
    EXPECT_LT(last, 0.2 * first);
    EXPECT_EQ(loss.correct(), 8);
  }
}

}  // namespace
}  // namespace psg::models
