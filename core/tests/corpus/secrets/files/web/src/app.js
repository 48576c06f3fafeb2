'use strict';

const express = require('express');
const mongoose = require('mongoose');
const stripe = require('stripe')('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');
const sgMail = require('@sendgrid/mail');
const { WebClient } = require('@slack/web-api');

sgMail.setApiKey(process.env.SENDGRID_API_KEY);

const slack = new WebClient('xoxb-532683929545-9963039618050-LURo2fkP2wZ09Iz5hTP29eQI');

mongoose.connect('mongodb+srv://storefront:2Cx-J*V0j*PfUwMmiI1c@cluster0.x7kq2.mongodb.net/storefront?retryWrites=true&w=majority');

const app = express();
app.use(express.json());

const config = {
  port: process.env.PORT || 3000,
  apiKey: process.env.API_KEY,
  jwtSecret: 'oluZEI+3MdF077mYvw4SyHI4TIPEw96W/YNl/EJFt6Y5LQCs',
  session: {
    secret: "0b1cf60e2c8bd14a9a3ecb579d60f67567a04cc221d8107d44e28876e9fb5c10",
    cookie: { secure: true, maxAge: 86400000 },
  },
  github: {
    clientId: 'Iv1.3f0c2a9d81b7e645',
    clientSecret: '4dc443838ba5a3fcbe844d83e3da7c4ec3288d11',
  },
};

function requireApiKey(req, res, next) {
  const key = req.get('x-api-key');
  if (!config.apiKey) throw new Error('API_KEY is not set');
  if (key !== config.apiKey) return res.status(401).json({ error: 'invalid api key' });
  next();
}

app.post('/checkout', requireApiKey, async (req, res) => {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: req.body.items,
    success_url: 'https://shop.acme.io/thanks',
  });
  res.json({ id: session.id });
});

app.listen(config.port, () => console.log(`listening on ${config.port}`));
