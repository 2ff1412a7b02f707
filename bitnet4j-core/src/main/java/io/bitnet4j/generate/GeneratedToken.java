package io.bitnet4j.generate;

/** One step of a {@link Generation}: the token id and the text it releases (see {@link TokenListener}). */
public record GeneratedToken(int id, String text) {}
