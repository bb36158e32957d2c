require_relative "app"

run ExampleApp
