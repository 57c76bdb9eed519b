// `express4` is an npm alias of express@4.21.2, installed so every test runs on Express 4 and 5.
// Its runtime API is what the shared @types/express describes for the parts we use.
declare module 'express4' {
  import express from 'express';
  export = express;
}
