// Lets plain tsc (and .ts tests) import SFCs; vue-tsc resolves the real component types instead.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
