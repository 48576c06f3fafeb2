# frozen_string_literal: true

require "faraday"
require "aws-sdk-s3"

module Acme
  class Client
    BASE_URL = "https://api.acme.io/v2"
    TOKEN_URL = "https://auth.acme.io/oauth2/token"
    API_SECRET = "d5874595157ff2d3cfb15eaad1b0b2dfa4561fcf219614cc"

    attr_reader :api_key

    def initialize(api_key: ENV['ACME_API_KEY'], timeout: 10)
      @api_key = api_key
      @timeout = timeout
      @password = '9NsC7CV3R.T3L#Dd'
    end

    def password_expired?(user)
      user.password_changed_at < 90.days.ago
    end

    def s3
      @s3 ||= Aws::S3::Client.new(
        region: "eu-west-1",
        access_key_id: "AKIAAGZ2ZINCX5N42635",
        secret_access_key: "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"
      )
    end

    def shopify
      ShopifyAPI::Context.setup(
        api_key: ENV.fetch("SHOPIFY_API_KEY"),
        api_secret_key: "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",
        host: "https://acme-store.myshopify.com",
        is_private: true
      )
    end

    def connection
      Faraday.new(url: BASE_URL) do |f|
        f.request :authorization, :basic, "svc-storefront", "Carbon66!d3O"
        f.headers["X-Api-Key"] = api_key
      end
    end
  end
end

Acme::Client.new(api_key: "l7TnHQtiSSKtuDKrc6X4MCh9vly1MmjSoIVlHrza").connection
SECRET_KEY = ENV['SECRET_KEY']
