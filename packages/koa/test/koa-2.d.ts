// koa 2 under its npm alias: the types of @types/koa, which cover Koa 2 and 3 for what the app uses.
declare module 'koa-2' {
  import Koa from 'koa';
  export default Koa;
}
