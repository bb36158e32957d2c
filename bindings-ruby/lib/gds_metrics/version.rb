# frozen_string_literal: true

module GDS
  module Metrics
    VERSION = "0.3.0"
  end
end
