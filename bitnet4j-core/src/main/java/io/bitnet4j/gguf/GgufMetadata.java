package io.bitnet4j.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** GGUF key/value metadata in file order, with typed getters that explain a missing or mistyped key. */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;

    public GgufMetadata(Map<String, GgufValue> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public String getString(String key) {
        return require(key, String.class, "a string");
    }

    public Optional<String> findString(String key) {
        return has(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    /** Any integer type, checked to fit an int. */
    public int getInt(String key) {
        GgufValue v = value(key);
        if (!v.type().isInteger()) {
            throw new GgufException("metadata key '" + key + "' is " + v.type() + ", expected an integer");
        }
        long l = ((Number) v.value()).longValue();
        if (l != (int) l) {
            throw new GgufException("metadata key '" + key + "' = " + l + " is out of range");
        }
        return (int) l;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public long getLong(String key) {
        GgufValue v = value(key);
        if (!v.type().isInteger()) {
            throw new GgufException("metadata key '" + key + "' is " + v.type() + ", expected an integer");
        }
        return ((Number) v.value()).longValue();
    }

    /** FLOAT32 or FLOAT64 (or an integer), as float. */
    public float getFloat(String key) {
        GgufValue v = value(key);
        if (v.value() instanceof Number n && v.type() != GgufValueType.BOOL) {
            return n.floatValue();
        }
        throw new GgufException("metadata key '" + key + "' is " + v.type() + ", expected a number");
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBool(String key, boolean defaultValue) {
        return has(key) ? require(key, Boolean.class, "a bool") : defaultValue;
    }

    public GgufArray getArray(String key) {
        return require(key, GgufArray.class, "an array");
    }

    public Optional<GgufArray> findArray(String key) {
        return has(key) ? Optional.of(getArray(key)) : Optional.empty();
    }

    private GgufValue value(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufException("metadata key '" + key + "' is missing");
        }
        return v;
    }

    private <T> T require(String key, Class<T> type, String what) {
        GgufValue v = value(key);
        if (!type.isInstance(v.value())) {
            throw new GgufException("metadata key '" + key + "' is " + v.type() + ", expected " + what);
        }
        return type.cast(v.value());
    }
}
