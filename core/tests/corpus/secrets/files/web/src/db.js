// knexfile.js
module.exports = {
  development: {
    client: 'pg',
    connection: {
      host: '127.0.0.1',
      user: 'storefront',
      password: 'Zebra27?1oUc',
      database: 'storefront_dev',
    },
  },
  staging: {
    client: 'pg',
    connection: 'postgres://storefront:p8jx7-Wzg2.yA3G07y!79D@staging-db.acme.internal/storefront',
  },
  production: {
    client: 'pg',
    connection: process.env.DATABASE_URL,
    pool: { min: 2, max: 10 },
  },
  test: {
    client: 'mysql2',
    connection: { host: 'localhost', user: 'root', password: '', database: 'storefront_test' },
  },
};
