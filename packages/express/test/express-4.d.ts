// express 4 under its npm alias: the types of the current express, which cover what the app uses.
declare module 'express-4' {
  import express from 'express';
  export default express;
}
