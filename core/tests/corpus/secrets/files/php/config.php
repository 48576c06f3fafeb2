<?php
/**
 * Base configuration for the shop front.
 *
 * Copy this file to config.local.php for local overrides.
 */

// ** Database settings ** //
define('DB_NAME', 'shop');
define('DB_USER', 'shop_app');
define('DB_PASSWORD', 'lxNhix6_^8Zqcu.IQ0kA');
define( 'DB_HOST', 'localhost' );
define('DB_CHARSET', 'utf8mb4');

/**#@+
 * Authentication unique keys and salts.
 */
define('AUTH_KEY',         'qL=2Q@MHkaHw4JnX)ZrZ^NGB)t~QGYs:=U}xd;eQXSu?|scB^bUys]4=EY+kMQSG');
define('SECURE_AUTH_KEY',  'Hd<f1BF<.r#&Sim&R|!q-o0g%u0|3r!^Sehe_Pts2ae,jMsVJG3M0B((Wr)Ej(~V');
define('LOGGED_IN_SALT',   'cNRb{F4c2{2z7mcFK9CpUVnHGBl^!X8N^>!zz3-upoxMk1ZcFt(NYy:G,rZ47R.0');
define("NONCE_SALT", "56k0IHNmdA7JZ3sDBALk5o7LRYkyCmlipwPvyz5HGlhILbxW6YKYGG8p3KOkzOLG");
/**#@-*/

define('MAIL_PASSWORD', getenv('MAIL_PASSWORD'));
define('STRIPE_SECRET', "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");

$config = [
    'paypal' => [
        'client_id' => 'AV2fXrN3aT0q1kPpbJ0XwX9lSxQ7m0mD8kzF3gE1Yc',
        'secret'    => 'lSpih0VRjatvjUUea37tiHv5QEsVFfIys8-91MNIVpC6oSsGAhL4hmF2GZIiY37WwrZ16qQ709YK-Dzd',
        'sandbox'   => false,
    ],
    'redis' => [
        'password' => null,
    ],
    'password_hash_cost' => 12,
];

$db_pass = "Breeze758?cqm";
$mysqli = new mysqli(DB_HOST, DB_USER, DB_PASSWORD, DB_NAME);

$table_prefix = 'wp_';
