// The packages a compat run takes from the compat package: each must exist once in the process.
export const SHARED = [
  '@nestjs/axios',
  '@nestjs/common',
  '@nestjs/config',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  '@nestjs/testing',
  'axios',
  'reflect-metadata',
  'rxjs',
];
