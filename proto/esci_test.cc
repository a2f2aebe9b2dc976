#include "proto/esci.h"

#include "gtest/gtest.h"

namespace marketsearch {
namespace {

TEST(Esci, LabelsAndGains) {
  EXPECT_EQ(*ParseEsci("E"), Esci::kExact);
  EXPECT_EQ(*ParseEsci("substitute"), Esci::kSubstitute);
  EXPECT_EQ(*ParseEsci(" c "), Esci::kComplement);
  EXPECT_EQ(*ParseEsci("IRRELEVANT"), Esci::kIrrelevant);
  EXPECT_FALSE(ParseEsci("X").ok());
  EXPECT_DOUBLE_EQ(EsciGain(Esci::kExact), 1.0);
  EXPECT_DOUBLE_EQ(EsciGain(Esci::kSubstitute), 0.1);
  EXPECT_DOUBLE_EQ(EsciGain(Esci::kComplement), 0.01);
  EXPECT_DOUBLE_EQ(EsciGain(Esci::kIrrelevant), 0.0);
}

}  // namespace
}  // namespace marketsearch
